"""Complaint and request tickets from every channel: states, SLA, escalation, history, report."""
