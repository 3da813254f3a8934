"""Who may see what: login, session cookie flags, CSRF, roles, agents limited to their callers, audit rows."""

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, console, csrf, csrf_of, log_in, seed

from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry


@pytest.fixture
def site(sqlite_url):
    ids = seed(sqlite_url)
    app, controller = console(sqlite_url)
    return app, ids, sqlite_url


def audit_rows(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return [(e.actor, e.action, e.patient_id, e.source) for e in db.scalars(select(AuditEntry))]
    finally:
        engine.dispose()


def test_session_cookie_is_httponly_and_samesite_strict(site):
    app, _, _ = site
    response = log_in(app.test_client(), "super")
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302 and response.headers["Location"] == "/wallboard"
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_pages_need_a_login_and_the_api_says_401(site):
    app, ids, _ = site
    client = app.test_client()
    assert client.get("/wallboard").headers["Location"] == "/login"
    assert client.get(f"/api/v1/patients/{ids['anna']}").status_code == 401
    # the status endpoint stays open: `ccctl status` reads it and it holds no patient data
    assert client.get("/api/v1/status").json["calls"]["total"] == 0


def test_wrong_password_is_refused_and_throttled(sqlite_url):
    seed(sqlite_url)
    app, _ = console(sqlite_url, login_max_failures=2)
    client = app.test_client()
    assert "Wrong user name or password." in log_in(client, "super", "bad-password").get_data(as_text=True)
    log_in(client, "super", "bad-password")
    refused = log_in(client, "super", PASSWORD)
    assert refused.status_code == 429 and "Too many failed logins" in refused.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(site):
    app, ids, url = site
    client = app.test_client()
    log_in(client, "admin")
    page = client.post("/admin/flows/reload")
    assert page.status_code == 403 and "CSRF token missing or wrong" in page.get_data(as_text=True)
    api = client.post("/api/v1/calls/some-call/wrapup", json={"code": "resolved"})
    assert api.status_code == 403 and "CSRF" in api.json["error"]
    wrong = client.post("/admin/flows/reload", data={"csrf_token": "guessed"})
    assert wrong.status_code == 403
    ok = client.post("/admin/flows/reload", data={"csrf_token": csrf(client)})
    assert ok.status_code == 302


def test_login_form_itself_needs_the_token(site):
    app, _, _ = site
    response = app.test_client().post("/login", data={"name": "admin", "password": PASSWORD})
    assert response.status_code == 403


def test_roles_keep_agents_off_the_wallboard_and_supervisors_off_users(site):
    app, _, _ = site
    agent = app.test_client()
    log_in(agent, "agent1")
    assert agent.get("/wallboard").status_code == 403
    assert agent.get("/api/v1/stream").status_code == 403
    supervisor = app.test_client()
    log_in(supervisor, "super")
    assert supervisor.get("/admin/users").status_code == 403
    assert supervisor.get("/workstation").status_code == 403


def test_admin_view_of_a_patient_is_audited_and_listed(site):
    app, ids, url = site
    client = app.test_client()
    log_in(client, "admin")
    page = client.get(f"/patients/{ids['anna']}").get_data(as_text=True)
    assert "Anna Kowalska" in page and "880001" in page
    assert ("admin", "view", ids["anna"], "web:127.0.0.1") in audit_rows(url)
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert re.search(r"<td>admin</td><td>view</td><td>P000001</td><td>web:127.0.0.1</td>", audit_page)  # by code


def test_patient_search_is_posted_so_no_patient_data_reaches_a_url(site):
    app, ids, _ = site
    client = app.test_client()
    log_in(client, "admin")
    found = client.post("/admin/patients", data={"search": "kowal", "csrf_token": csrf(client)})
    html = found.get_data(as_text=True)
    assert "Anna Kowalska" in html and "Wei" not in html
    links = re.findall(r'href="([^"]+)"', html)
    assert f"/patients/{ids['anna']}" in links
    assert not [link for link in links if "kowal" in link.lower() or "880001" in link]


def test_agent_opens_only_the_patient_offered_to_them(site):
    app, ids, url = site
    app.extensions["ccctl"].screen_pops.on_acd_event(
        {"type": "offered", "agent": "agent1", "call_uuid": "call-1", "patient_id": ids["anna"], "queue": "general"}
    )
    client = app.test_client()
    log_in(client, "agent1")
    assert client.get(f"/api/v1/patients/{ids['anna']}").json["display_name"] == "Anna Kowalska"
    refused = client.get(f"/api/v1/patients/{ids['wei']}")
    assert refused.status_code == 403 and "Zhang" not in refused.get_data(as_text=True)
    assert client.get(f"/patients/{ids['wei']}").status_code == 403
    other = app.test_client()
    log_in(other, "agent2")
    assert other.get(f"/api/v1/patients/{ids['anna']}").status_code == 403
    rows = audit_rows(url)
    assert ("agent1", "view", ids["anna"], "web:127.0.0.1") in rows
    assert ("agent1", "view_refused", ids["wei"], "web:127.0.0.1") in rows


def test_admin_sets_a_pin_and_unlocks_without_the_pin_in_any_page(site):
    app, ids, url = site
    client = app.test_client()
    log_in(client, "admin")
    token = csrf(client)
    client.post(f"/patients/{ids['anna']}/pin", data={"pin": "4821", "csrf_token": token})
    page = client.get(f"/patients/{ids['anna']}").get_data(as_text=True)
    assert "Saved." in page and "4821" not in page
    bad = client.post(f"/patients/{ids['anna']}/pin", data={"pin": "12", "csrf_token": token}, follow_redirects=True)
    assert "a PIN is 4 to 8 digits" in bad.get_data(as_text=True)
    too_long = client.post(f"/patients/{ids['anna']}/pin", data={"pin": "4821765", "csrf_token": token},
                           follow_redirects=True)  # fmt: skip
    assert "a PIN of 7 digits cannot be keyed in: the flows take 4 to 6 (authenticate node at ivr_flows/main.yaml:" in (
        too_long.get_data(as_text=True)
    )
    client.post(f"/patients/{ids['anna']}/unlock", data={"csrf_token": token})
    actions = [row[1] for row in audit_rows(url) if row[2] == ids["anna"]]
    assert "set_pin" in actions and "unlock" in actions


def test_admin_edits_a_patient_name(site):
    app, ids, _ = site
    client = app.test_client()
    log_in(client, "admin")
    form = {"given_name": "Anna Maria", "family_name": "Kowalska", "specialty": "", "csrf_token": csrf(client)}
    client.post(f"/patients/{ids['anna']}/edit", data=form)
    assert client.get(f"/api/v1/patients/{ids['anna']}").json["display_name"] == "Anna Maria Kowalska"


def test_each_user_sees_their_own_language(site):
    app, _, _ = site
    polish = app.test_client()
    log_in(polish, "agent2")
    assert "Stanowisko" in polish.get("/workstation").get_data(as_text=True)
    chinese = app.test_client()
    log_in(chinese, "super")
    page = chinese.get("/wallboard").get_data(as_text=True)
    chinese.post("/language", data={"language": "zh", "back": "/wallboard", "csrf_token": csrf_of(page)})
    assert "监控大屏" in chinese.get("/wallboard").get_data(as_text=True)
    # the choice is the user's: a new session of the same user keeps it
    again = app.test_client()
    log_in(again, "super")
    assert "监控大屏" in again.get("/wallboard").get_data(as_text=True)


def test_secret_key_is_generated_once_owner_only(tmp_path):
    from ccctl.config import Settings
    from ccctl.web.app import secret_key

    path = tmp_path / "var" / "web-secret-key"
    first = secret_key(Settings(), path)
    assert len(first) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert secret_key(Settings(), path) == first
