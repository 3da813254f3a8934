"""The tables, one module per area. Importing this package registers every table on Base.metadata
(relationships name their classes by string, so all areas must be loaded before the first query)."""

from ccctl.records.models import (  # noqa: F401
    acd,
    appointments,
    audit,
    base,
    calls,
    campaigns,
    channels,
    chat,
    inbox,
    kb,
    media,
    patients,
    sip_front,
    surveys,
    web,
)
