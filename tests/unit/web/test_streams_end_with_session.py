"""An open event stream (wallboard, workstation) ends when its session ends: logout, a disabled user, `ccctl users
logout`, or the session's lapse; another user's stream goes on. SQLite only: the session rows behave alike on
PostgreSQL (tests/unit/web/test_sessions.py runs on both)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from web_site import console, csrf, log_in, seed

from ccctl.records.models.base import utc_now
from ccctl.web import user_commands

MORE_THAN_A_STREAM_ENDING = 5  # chunks read after the session ended: an open stream would give them all


@pytest.fixture
def site(sqlite_url, monkeypatch):
    monkeypatch.setattr("ccctl.web.sessions.STREAM_CHECK_SECONDS", 0.0)  # ask at every turn, not every 5 s
    monkeypatch.setattr("ccctl.web.wallboard.STREAM_EVERY_SECONDS", 0.01)
    seed(sqlite_url)
    app, _ = console(sqlite_url, session_idle_minutes=30, session_max_hours=12)
    return app, sqlite_url


def open_stream(app, user: str, path: str):
    client = app.test_client()
    log_in(client, user)
    chunks = iter(client.get(path, buffered=False).response)
    assert next(chunks).startswith(b"retry:")
    return client, chunks


def lapse(app) -> None:
    app.session_interface.clock = lambda: utc_now() + timedelta(minutes=31)


ENDINGS = {
    "logout": lambda app, url, client, name: client.post("/logout", data={"csrf_token": csrf(client)}),
    "disabled": lambda app, url, client, name: user_commands.disable(url, name),
    "logout-everywhere": lambda app, url, client, name: user_commands.log_out(url, name),
    "idle": lambda app, url, client, name: lapse(app),
}


@pytest.mark.parametrize("ending", ["logout", "disabled", "logout-everywhere"])
def test_the_wallboard_stream_ends_with_its_session_and_another_users_goes_on(site, ending):
    app, url = site
    client, chunks = open_stream(app, "super", "/api/v1/stream")
    _other, others = open_stream(app, "admin", "/api/v1/stream")
    assert next(chunks).startswith(b"event: wallboard")
    ENDINGS[ending](app, url, client, "super")
    assert list(itertools.islice(chunks, MORE_THAN_A_STREAM_ENDING)) == []
    assert next(others).startswith(b"event: wallboard")


def test_a_lapsed_session_ends_its_wallboard_stream(site):
    app, url = site
    client, chunks = open_stream(app, "super", "/api/v1/stream")
    assert next(chunks).startswith(b"event: wallboard")
    lapse(app)
    assert list(itertools.islice(chunks, MORE_THAN_A_STREAM_ENDING)) == []


@pytest.mark.parametrize("ending", ENDINGS)
def test_the_agents_stream_ends_with_their_session(site, ending):
    app, url = site
    client, chunks = open_stream(app, "agent1", "/api/v1/agent/stream")
    ENDINGS[ending](app, url, client, "agent1")
    assert list(itertools.islice(chunks, MORE_THAN_A_STREAM_ENDING)) == []
