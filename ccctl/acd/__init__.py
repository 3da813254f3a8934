"""The ACD: queues, agents, skills, routing strategies, hold announcements, callbacks.

Routing is pure logic (routing.py, strategies.py); engine.py runs it against the database.
"""
