"""Tables for web console users, roles and login throttling: Web console users, roles and login throttling.

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from ccctl.records.models import Base  # noqa: F401
