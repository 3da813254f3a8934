"""The appointment nodes: `visits` (hear, confirm, cancel or move the caller's next visits) and `book` (pick a
free slot).

Both ask services.appointments (ccctl.appointments.call_services over the booking store) and speak a
visit's date and time with FreeSWITCH's `say` application, so it is read in the caller's language by
mod_say_en/zh/pl from the switch's own sound files; department and doctor names go through the prompt.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Generator
from typing import Any

from ccctl.callflow import AppResult, Command, Execute
from ccctl.ivr import fs_args
from ccctl.ivr.digits import DigitRequest, ask_node
from ccctl.ivr.nodes.base import Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext
from ccctl.ivr.services import Appointments, PatientView, SlotOffer, Visit

# the say modules a site loads (fs_conf modules.conf); another language's dates are said in English
SAY_MODULES = ("en", "zh", "pl")
# mod_say's type for a date with its time; the number it reads is seconds since the epoch, shown in the
# channel's `timezone` variable (else the switch's local zone)
SAY_DATE_TIME = "CURRENT_DATE_TIME PRONOUNCED"
MAX_OFFERED = 9  # one keypad key per slot or visit
# a slot taken while the caller listened: the fresh list is offered again, this many times in all
BOOK_ROUNDS = 3
CONFIRM_KEY, CANCEL_KEY, NEXT_KEY = "1", "2", "3"
DEFAULT_MOVE_KEY = "4"
# the keys a visit's options take besides 1-3; # and * end or repeat input elsewhere
MOVE_KEYS = "0456789"
DEPARTMENT_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")


def say_date_time_arg(language: str, starts_at: dt.datetime) -> str:
    """The `say` application's argument: <module> <type> <method> <epoch seconds> (mod_dptools say_function)."""
    module = language if language in SAY_MODULES else "en"
    return f"{module} {SAY_DATE_TIME} {int(starts_at.timestamp())}"


def _utc_now(ctx: RunContext) -> dt.datetime:
    """The flow's clock as an aware UTC time (a naive clock is the site's local time)."""
    now = ctx.now()
    return (now if now.tzinfo else now.astimezone()).astimezone(dt.UTC)


def _slot_words(ctx: RunContext, slot: SlotOffer, key: str) -> dict[str, Any]:
    return {"key": key, "department": slot.department_in(ctx.language), "doctor": slot.doctor_name}


def _identified(ctx: RunContext, *, member: bool) -> tuple[PatientView, Appointments] | None:
    """The caller's patient record and the booking system, when the node may act for them."""
    appointments = ctx.services.appointments
    patient = ctx.patient
    if appointments is None or patient is None:
        return None
    if member and not ctx.variables.get("authenticated"):
        return None
    return patient, appointments


def _speak_slot(ctx: RunContext, prompt: str, slot: SlotOffer) -> Generator[Command, AppResult, None]:
    yield Execute("playback", ctx.playback(prompt))
    yield Execute("say", say_date_time_arg(ctx.language, slot.starts_at))


def _site_zone(appointments: Appointments) -> Execute:
    """mod_say reads the channel's `timezone` for the hour it says: the site's, not the switch's."""
    return Execute("set", f"timezone={fs_args.tts_safe(appointments.timezone).replace(' ', '_')}")


class _AppointmentNode(Node):
    waits_for_input = True

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        if not 1 <= self.get("limit") <= MAX_OFFERED:
            report(self.line_of("limit"), f"'limit' must be 1 to {MAX_OFFERED} (one key each)")
        if self.get("tries") < 1:
            report(self.line_of("tries"), "'tries' must be at least 1")

    def _ask_key(self, ctx: RunContext, prompt: str, keys: str) -> Generator[Command, AppResult, str | None]:
        request = DigitRequest(f"cc_{self.name}", prompt, 1, self.get("timeout"), terminators="none")
        return (yield from ask_node(ctx, self, request, lambda digits: digits in keys))

    def _fail(self, ctx: RunContext, why: str) -> str | None:
        ctx.visit(f"{self.name}:{why}")
        return self.get("on_failure")

    def _choose(
        self, ctx: RunContext, slots: list[SlotOffer], slot_prompt: str, choose_prompt: str
    ) -> Generator[Command, AppResult, SlotOffer | None]:
        """Say each slot after its prompt (one key each) and take the caller's choice; None: no valid key."""
        for number, slot in enumerate(slots, start=1):
            ctx.variables["slot"] = _slot_words(ctx, slot, str(number))
            yield from _speak_slot(ctx, slot_prompt, slot)
        keys = "".join(str(number) for number in range(1, len(slots) + 1))
        key = yield from self._ask_key(ctx, choose_prompt, keys)
        return None if key is None else slots[int(key) - 1]

    def _play_if_set(self, ctx: RunContext, field_name: str) -> Generator[Command, AppResult, None]:
        if field_name in self.values:
            yield Execute("playback", ctx.playback(self.get(field_name)))


class VisitsNode(_AppointmentNode):
    """After `authenticate`: the member's next visits, one at a time; 1 confirms, 2 cancels, 3 the next visit,
    and with `move_slot_prompt` set, 4 (`move_key`) offers the department's next free slots to move the visit to."""

    type_name = "visits"
    fields = {
        "prompt": Field("prompt", required=True),  # before each visit's date: {{ visit.department }}, .doctor
        "options_prompt": Field("prompt", required=True),  # "to confirm press 1, to cancel 2, next visit 3"
        "none_prompt": Field("prompt"),
        "confirmed_prompt": Field("prompt"),
        "cancelled_prompt": Field("prompt"),
        "refused_prompt": Field("prompt"),  # the change could not be made
        # moving: offered only when move_slot_prompt is set
        "move_key": Field("text", default=DEFAULT_MOVE_KEY),
        "move_intro_prompt": Field("prompt"),  # {{ department }} in the caller's language, {{ slot_count }}
        "move_slot_prompt": Field("prompt"),  # before each free slot's date: {{ slot.key }}, .department, .doctor
        "move_choose_prompt": Field("prompt"),
        "moved_prompt": Field("prompt"),  # before the new date is said: {{ visit.department }}, .doctor
        "move_none_prompt": Field("prompt"),  # no free slot to move to; the visit's options again
        "taken_prompt": Field("prompt"),  # the chosen slot went to another caller; the fresh list follows
        "invalid_prompt": Field("prompt"),
        "no_input_prompt": Field("prompt"),
        "limit": Field("int", default=3),
        "timeout": Field("seconds", default=5),
        "tries": Field("int", default=3),
        "on_none": Field("node", ends_when_absent=True),
        "on_done": Field("node", ends_when_absent=True),
        "on_failure": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        move_key = str(self.get("move_key"))
        if len(move_key) != 1 or move_key not in MOVE_KEYS:
            report(self.line_of("move_key"), f"'move_key' must be one of the keys {MOVE_KEYS}, got {move_key!r}")
        if "move_slot_prompt" in self.values and "move_choose_prompt" not in self.values:
            report(self.line_of("move_slot_prompt"), "'move_slot_prompt' needs 'move_choose_prompt' too")

    def describe(self) -> str:
        moving = f", {self.get('move_key')} move" if "move_slot_prompt" in self.values else ""
        return f"visits: the member's next {self.get('limit')} visits (1 confirm, 2 cancel, 3 next{moving})"

    def run(self, ctx: RunContext) -> Steps:
        found = _identified(ctx, member=True)
        if found is None:
            return self._fail(ctx, "not_identified")
        patient, appointments = found
        visits = yield from ctx.records(
            lambda: appointments.upcoming_visits(patient.id, _utc_now(ctx), self.get("limit"))
        )
        ctx.variables["visit_count"] = len(visits)
        if not visits:
            ctx.visit(f"{self.name}:none")
            if "none_prompt" in self.values:
                yield Execute("playback", ctx.playback(self.get("none_prompt")))
            return self.get("on_none")
        yield _site_zone(appointments)
        move_key = str(self.get("move_key")) if "move_slot_prompt" in self.values else ""
        index = 0
        while True:
            visit = visits[index]
            ctx.variables["visit"] = {**_slot_words(ctx, visit.slot, str(index + 1)), "status": visit.status}
            yield from _speak_slot(ctx, self.get("prompt"), visit.slot)
            keys = CONFIRM_KEY + CANCEL_KEY + NEXT_KEY + move_key
            key = yield from self._ask_key(ctx, self.get("options_prompt"), keys)
            if key is None:
                return self._fail(ctx, "failed")
            if key == NEXT_KEY:
                index = (index + 1) % len(visits)
                ctx.visit(f"{self.name}:next")
                continue
            if key == move_key:
                outcome = yield from self._move(ctx, patient, appointments, visit)
                if outcome == "none":
                    continue  # nothing free: this visit's options again
                if outcome is None:
                    return self._fail(ctx, "failed")
                if outcome != "moved":
                    yield from self._play_if_set(ctx, "refused_prompt")
                    return self._fail(ctx, "moved_refused")
                return self.get("on_done")
            if key == CONFIRM_KEY:
                change, step = "confirmed", appointments.confirm
            else:
                change, step = "cancelled", appointments.cancel
            refused = yield from ctx.records(step, patient.id, visit.id, ctx.call.uuid)
            if refused is not None:
                if "refused_prompt" in self.values:
                    yield Execute("playback", ctx.playback(self.get("refused_prompt")))
                return self._fail(ctx, f"{change}_refused")
            ctx.visit(f"{self.name}:{change}")
            if f"{change}_prompt" in self.values:
                yield Execute("playback", ctx.playback(self.get(f"{change}_prompt")))
            return self.get("on_done")

    def _move(
        self, ctx: RunContext, patient: PatientView, appointments: Appointments, visit: Visit
    ) -> Generator[Command, AppResult, str | None]:
        """Offer the visit's department's next free slots and move it to the chosen one.

        "moved", "none" (nothing free), None (no valid key) or the booking system's refusal."""
        ctx.visit(f"{self.name}:move")
        department = visit.slot.department_code
        for _ in range(BOOK_ROUNDS):
            slots = yield from ctx.records(
                lambda: appointments.free_slots(department, _utc_now(ctx), self.get("limit"))
            )
            if not slots:
                ctx.visit(f"{self.name}:move_none")
                yield from self._play_if_set(ctx, "move_none_prompt")
                return "none"
            ctx.variables.update(department=slots[0].department_in(ctx.language), slot_count=len(slots))
            yield from self._play_if_set(ctx, "move_intro_prompt")
            chosen = yield from self._choose(ctx, slots, self.get("move_slot_prompt"), self.get("move_choose_prompt"))
            if chosen is None:
                return None
            refused = yield from ctx.records(appointments.move, patient.id, visit.id, chosen.id, ctx.call.uuid)
            if refused is None:
                ctx.visit(f"{self.name}:moved")
                ctx.variables["visit"] = {**_slot_words(ctx, chosen, str(slots.index(chosen) + 1)), "status": "booked"}
                if "moved_prompt" in self.values:
                    yield from _speak_slot(ctx, self.get("moved_prompt"), chosen)
                return "moved"
            if refused not in ("taken", "not_bookable"):
                return refused
            ctx.visit(f"{self.name}:taken")
            yield from self._play_if_set(ctx, "taken_prompt")
        return None


class BookNode(_AppointmentNode):
    """The next free slots of a department, one key each; the chosen one is booked for the caller's patient."""

    type_name = "book"
    fields = {
        "department": Field("template", required=True),  # a department code, or "{{ variable }}" set earlier
        "intro_prompt": Field("prompt"),  # {{ department }} in the caller's language, {{ slot_count }}
        "slot_prompt": Field("prompt", required=True),  # before each date: {{ slot.key }}, .department, .doctor
        "choose_prompt": Field("prompt", required=True),
        "booked_prompt": Field("prompt"),  # before the booked date is said again: {{ visit.department }}, .doctor
        "taken_prompt": Field("prompt"),  # the slot went to another caller meanwhile; the fresh list follows
        "none_prompt": Field("prompt"),
        "invalid_prompt": Field("prompt"),
        "no_input_prompt": Field("prompt"),
        "limit": Field("int", default=3),
        "timeout": Field("seconds", default=5),
        "tries": Field("int", default=3),
        "on_booked": Field("node", ends_when_absent=True),
        "on_none": Field("node", ends_when_absent=True),
        "on_failure": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        department = self.values.get("department")
        if department is not None and "{" not in department and not DEPARTMENT_CODE.match(department.strip()):
            report(self.line_of("department"), f"'department' must be a department code, got {department!r}")

    def describe(self) -> str:
        return f"book: the next {self.get('limit')} free slots of {self.get('department')}"

    def run(self, ctx: RunContext) -> Steps:
        found = _identified(ctx, member=False)
        if found is None:
            return self._fail(ctx, "not_identified")
        patient, appointments = found
        department = ctx.render(self.get("department")).strip()
        yield _site_zone(appointments)
        for _ in range(BOOK_ROUNDS):
            slots = yield from ctx.records(
                lambda: appointments.free_slots(department, _utc_now(ctx), self.get("limit"))
            )
            if not slots:
                ctx.visit(f"{self.name}:none")
                if "none_prompt" in self.values:
                    yield Execute("playback", ctx.playback(self.get("none_prompt")))
                return self.get("on_none")
            ctx.variables.update(department=slots[0].department_in(ctx.language), slot_count=len(slots))
            if "intro_prompt" in self.values:
                yield Execute("playback", ctx.playback(self.get("intro_prompt")))
            chosen = yield from self._choose(ctx, slots, self.get("slot_prompt"), self.get("choose_prompt"))
            if chosen is None:
                return self._fail(ctx, "failed")
            key = str(slots.index(chosen) + 1)
            refused = yield from ctx.records(appointments.book, patient.id, chosen.id, ctx.call.uuid)
            if refused is None:
                ctx.visit(f"{self.name}:booked")
                ctx.variables["visit"] = _slot_words(ctx, chosen, key)
                if "booked_prompt" in self.values:
                    yield from _speak_slot(ctx, self.get("booked_prompt"), chosen)
                return self.get("on_booked")
            if refused not in ("taken", "not_bookable"):
                return self._fail(ctx, refused)
            ctx.visit(f"{self.name}:taken")
            if "taken_prompt" in self.values:
                yield Execute("playback", ctx.playback(self.get("taken_prompt")))
        return self._fail(ctx, "failed")
