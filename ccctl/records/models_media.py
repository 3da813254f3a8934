"""Tables for recordings of bridged calls and their archive state: Recordings of bridged calls and their archive state.

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from ccctl.records.models import Base  # noqa: F401
