"""Tables for acd: ACD: agents' status and state, contacts, queues, waiting callers, queue events (KPIs).

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from ccctl.records.models import Base  # noqa: F401
