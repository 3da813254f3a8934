"""Console sessions on the server: the cookie is a random token, revoked by logout, a new password, a new role or
a disabled account, lapsed after the idle time and the absolute lifetime (SQLite and PostgreSQL)."""

import hashlib
import logging
from datetime import timedelta

import pytest
from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, console, csrf_of, log_in, seed

from ccctl.records.database import make_engine
from ccctl.records.models.base import utc_now
from ccctl.records.models.web import WebSession
from ccctl.web import user_commands

STRONG = "a-new-Password-2"


@pytest.fixture
def site(db_url):
    seed(db_url)
    app, _ = console(db_url, session_idle_minutes=30, session_max_hours=12)
    return app, db_url


def cookie_of(client) -> str:
    return client.get_cookie("ccctl_session").value


def copy_of(app, client):
    """A second browser holding a copy of the first one's session cookie."""
    thief = app.test_client()
    thief.set_cookie("ccctl_session", cookie_of(client))
    return thief


def session_rows(url: str) -> list[WebSession]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(WebSession)))
    finally:
        engine.dispose()


def move_clock(app, minutes: float) -> None:
    """The sessions' clock runs `minutes` ahead from now on (instead of the test waiting)."""
    app.session_interface.clock = lambda: utc_now() + timedelta(minutes=minutes)


def test_cookie_holds_a_random_token_and_the_database_only_its_hash(site):
    app, url = site
    client = app.test_client()
    log_in(client, "admin")
    token = cookie_of(client)
    assert len(token) >= 40 and "." not in token  # not a signed document of the session's contents
    rows = [r for r in session_rows(url) if r.user_id is not None]
    assert len(rows) == 1 and rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in rows[0].data


def test_login_gives_a_new_session_and_a_new_csrf_token(site):
    app, _ = site
    client = app.test_client()
    before_page = client.get("/login").get_data(as_text=True)
    before_cookie = cookie_of(client)
    client.post("/login", data={"name": "admin", "password": "correct horse 1", "csrf_token": csrf_of(before_page)})
    after_page = client.get("/admin/users").get_data(as_text=True)
    assert cookie_of(client) != before_cookie and csrf_of(after_page) != csrf_of(before_page)
    # the visitor's cookie from before the login opens nothing
    planted = app.test_client()
    planted.set_cookie("ccctl_session", before_cookie)
    assert planted.get("/admin/users").headers["Location"] == "/login"


def test_a_copied_cookie_is_refused_after_logout(site):
    app, _ = site
    client = app.test_client()
    log_in(client, "admin")
    thief = copy_of(app, client)
    assert thief.get("/admin/users").status_code == 200
    page = client.get("/admin/users").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_of(page)}).headers["Location"] == "/login"
    assert thief.get("/admin/users").headers["Location"] == "/login"
    assert "Your session has ended" in thief.get("/login").get_data(as_text=True)
    assert thief.get("/api/v1/wallboard").status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda url: user_commands.change_password(url, "super", STRONG),
        lambda url: user_commands.change_role(url, "super", "agent"),
        lambda url: user_commands.disable(url, "super"),
        lambda url: user_commands.log_out(url, "super"),
    ],
    ids=["password", "role", "disabled", "logout-everywhere"],
)
def test_a_change_to_the_account_ends_its_sessions(site, change):
    app, url = site
    client, other = app.test_client(), app.test_client()
    log_in(client, "super")
    log_in(other, "admin")
    assert change(url) == 1
    assert client.get("/wallboard").headers["Location"] == "/login"
    assert other.get("/admin/users").status_code == 200


def test_an_idle_session_lapses_and_an_active_one_lasts_until_its_lifetime(site):
    app, _ = site
    client = app.test_client()
    log_in(client, "super")
    move_clock(app, 29)
    assert client.get("/wallboard").status_code == 200
    move_clock(app, 29 + 31)
    assert client.get("/wallboard").headers["Location"] == "/login"

    log_in(client, "super")  # at minute 60, then a request every 20 minutes for 12 hours
    for minutes in range(60 + 20, 60 + 12 * 60, 20):
        move_clock(app, minutes)
        assert client.get("/wallboard").status_code == 200
    move_clock(app, 60 + 12 * 60 + 1)
    assert client.get("/wallboard").headers["Location"] == "/login"


def test_a_lapsed_session_is_deleted(site):
    app, url = site
    client = app.test_client()
    log_in(client, "super")
    move_clock(app, 31)
    client.get("/wallboard")
    assert [r for r in session_rows(url) if r.user_id is not None] == []


def test_a_request_running_while_the_session_ends_does_not_revive_it(site):
    app, url = site
    client = app.test_client()
    log_in(client, "super")
    with app.test_request_context("/wallboard", headers={"Cookie": f"ccctl_session={cookie_of(client)}"}):
        session = app.session_interface.open_session(app, request)
        user_commands.log_out(url, "super")
        session["lang"] = "pl"
        app.session_interface.save_session(app, session, app.make_response(""))
    assert [r for r in session_rows(url) if r.user_id is not None] == []
    assert client.get("/wallboard").headers["Location"] == "/login"


def test_no_password_token_or_csrf_token_reaches_the_log(site, caplog):
    app, _ = site
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        log_in(client, "admin", "a-wrong-Password-9")
        log_in(client, "admin")
        token = cookie_of(client)
        page = client.get("/admin/users").get_data(as_text=True)
        client.post("/admin/flows/reload", data={"csrf_token": "guessed-token"})
        client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert "web login: admin (admin) from 127.0.0.1" in caplog.text and "CSRF token missing or wrong" in caplog.text
    secrets = [PASSWORD, "a-wrong-Password-9", token, hashlib.sha256(token.encode()).hexdigest(), csrf_of(page)]
    assert [s for s in secrets if s in caplog.text] == []
