"""The FHIR R4 API the hospital's systems use: Patient, Practitioner, Schedule, Slot, Appointment, Communication.

Each system has its own bearer token (`ccctl api-clients`); bookings go through ccctl.appointments.store, so the
API obeys the same one-slot rule as the phone and the console. docs/integration.md describes the mapping.
"""
