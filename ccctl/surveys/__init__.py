"""Satisfaction surveys: DTMF questions after an agent call or on a campaign call, answers kept, rules escalated."""
