"""Agents' SIP digests in the database and the view Kamailio authenticates from (kamailio_subscriber)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ccctl.acd.agent_admin import disable_agent, enable_agent, remove_agent
from ccctl.acd.agents import add_agent
from ccctl.acd.sip_credentials import a1_hash
from ccctl.acd.sip_digest_store import save_agent_digest
from ccctl.errors import UserError
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade


def subscribers(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT username, domain, ha1, ha1b FROM kamailio_subscriber ORDER BY 1"))
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def test_kamailio_sees_the_latest_digest_of_each_agent_not_disabled(db_url):
    add_agent(db_url, "ann", "1001", {})
    add_agent(db_url, "bob", "1002", {})
    add_agent(db_url, "cat", "1003", {})  # no password of her own: not a subscriber
    save_agent_digest(db_url, "1001", "cc.test", a1_hash("1001", "cc.test", "first"))
    save_agent_digest(db_url, "1001", "cc.test", a1_hash("1001", "cc.test", "rotated"))
    save_agent_digest(db_url, "1002", "cc.test", a1_hash("1002", "cc.test", "bobs"))
    assert subscribers(db_url) == [
        ("1001", "cc.test", a1_hash("1001", "cc.test", "rotated"), ""),
        ("1002", "cc.test", a1_hash("1002", "cc.test", "bobs"), ""),
    ]

    disable_agent(db_url, "ann", "admin", "cli")
    assert [row[0] for row in subscribers(db_url)] == ["1002"]
    enable_agent(db_url, "ann", "admin", "cli")
    remove_agent(db_url, "bob", "admin", "cli")
    assert [row[0] for row in subscribers(db_url)] == ["1001"]


def test_a_digest_for_an_extension_without_an_agent_is_refused(db_url):
    with pytest.raises(UserError, match="no agent on extension 1009"):
        save_agent_digest(db_url, "1009", "cc.test", a1_hash("1009", "cc.test", "x"))


def test_kamailio_finds_the_versions_it_checks(empty_db_url):
    upgrade(empty_db_url)  # the migrated fixtures empty every table between tests, these rows too
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            rows = dict(connection.execute(text("SELECT table_name, table_version FROM kamailio_version")).all())
    finally:
        engine.dispose()
    # Kamailio 5.6: auth_db's subscriber table is version 7, usrloc's location table version 9
    assert rows == {"kamailio_version": 1, "kamailio_subscriber": 7, "kamailio_location": 9}
