"""Why a booking or a change was refused: one line each, naming the slot or appointment, never the patient."""

from ccctl.errors import UserError


class AppointmentError(UserError):
    """An appointment cannot be booked, found or changed."""


class SlotTaken(AppointmentError):
    """Another booking holds the slot (the database's unique held_slot_id refused this one)."""


class SlotNotBookable(AppointmentError):
    """The slot is unknown, blocked by the hospital, or already started."""


class AppointmentNotFound(AppointmentError):
    """No appointment has this id."""


class AppointmentNotChangeable(AppointmentError):
    """The appointment is no longer booked or confirmed (cancelled, moved, attended...)."""
