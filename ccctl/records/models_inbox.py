"""Tables for inbox items of every channel, attachments, tickets and their history: Inbox items of every channel, attachments, tickets and their history.

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from ccctl.records.models import Base  # noqa: F401
