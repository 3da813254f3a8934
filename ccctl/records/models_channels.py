"""Tables for sms and fax transmissions with per-attempt status: SMS and fax transmissions with per-attempt status.

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from ccctl.records.models import Base  # noqa: F401
