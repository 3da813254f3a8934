"""Outbound care programmes: reminders, follow-up calls, notifications and satisfaction surveys."""
