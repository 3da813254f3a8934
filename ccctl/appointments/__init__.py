"""Appointments: departments, doctors and their slots, and the visits booked on them.

`store.py` is the one place that writes appointment rows (the phone flows, the agent's panel, HL7 and FHIR
all call it); `schedule_import.py` loads slots from a CSV; `notify.py` tells the patient what changed.
"""
