"""The SIP front's tables: each agent's SIP digest, and what Kamailio keeps in our PostgreSQL.

Kamailio (`ccctl fs render --kamailio`, docs/scale-out.md) authenticates agents from the view
kamailio_subscriber (agent_sip_digests of agents not disabled, made by the migration) and keeps
registrations in kamailio_location, so a pair of Kamailio instances share them. The columns are
Kamailio 5.6's own (its usrloc schema, version 9); kamailio_version holds the versions it checks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import REAL, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, UtcDateTime, utc_now

# the versions Kamailio 5.6 checks in kamailio_version before it uses a table
KAMAILIO_TABLE_VERSIONS = {"kamailio_version": 1, "kamailio_subscriber": 7, "kamailio_location": 9}


class AgentSipDigest(Base):
    """The HA1 of an agent's own SIP password, md5(extension:domain:password), never the password."""

    __tablename__ = "agent_sip_digests"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(128))
    a1_hash: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class KamailioVersion(Base):
    __tablename__ = "kamailio_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32), unique=True)
    table_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class KamailioLocation(Base):
    """One registered contact (Kamailio's usrloc writes and reads these rows; times are its local wall time)."""

    __tablename__ = "kamailio_location"
    __table_args__ = (
        Index("ix_kamailio_location_account_contact", "username", "domain", "contact"),
        Index("ix_kamailio_location_expires", "expires"),
        Index("ix_kamailio_location_connection", "server_id", "connection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ruid: Mapped[str] = mapped_column(String(64), unique=True, server_default="")
    username: Mapped[str] = mapped_column(String(64), server_default="")
    domain: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(512), server_default="")
    received: Mapped[str | None] = mapped_column(String(128))
    path: Mapped[str | None] = mapped_column(String(512))
    expires: Mapped[datetime] = mapped_column(DateTime, server_default="2030-05-28 21:32:15")
    q: Mapped[float] = mapped_column(REAL, server_default="1.0")
    callid: Mapped[str] = mapped_column(String(255), server_default="Default-Call-ID")
    cseq: Mapped[int] = mapped_column(Integer, server_default="1")
    last_modified: Mapped[datetime] = mapped_column(DateTime, server_default="2000-01-01 00:00:01")
    flags: Mapped[int] = mapped_column(Integer, server_default="0")
    cflags: Mapped[int] = mapped_column(Integer, server_default="0")
    user_agent: Mapped[str] = mapped_column(String(255), server_default="")
    socket: Mapped[str | None] = mapped_column(String(64))
    methods: Mapped[int | None] = mapped_column(Integer)
    instance: Mapped[str | None] = mapped_column(String(255))
    reg_id: Mapped[int] = mapped_column(Integer, server_default="0")
    server_id: Mapped[int] = mapped_column(Integer, server_default="0")
    connection_id: Mapped[int] = mapped_column(Integer, server_default="0")
    keepalive: Mapped[int] = mapped_column(Integer, server_default="0")
    partition: Mapped[int] = mapped_column(Integer, server_default="0")
