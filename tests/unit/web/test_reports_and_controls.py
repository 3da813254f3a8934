"""The KPI report page and CSV export; call controls refused before they reach FreeSWITCH."""

import pytest
from web_site import console, csrf, log_in, seed

from ccctl.acd.agents import add_queue


@pytest.fixture
def site(sqlite_url):
    ids = seed(sqlite_url)
    add_queue(sqlite_url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    app, _ = console(sqlite_url)
    return app, ids


def test_report_lists_every_queue_and_exports_csv(site):
    app, _ = site
    client = app.test_client()
    log_in(client, "super")
    page = client.get("/reports?since=2026-11-01&until=2026-11-07").get_data(as_text=True)
    assert "<td>All queues</td><td>0</td>" in page and "<td>cardio</td><td>0</td>" in page
    export = client.get("/api/v1/reports/kpi?since=2026-11-01&until=2026-11-07&format=csv")
    assert export.headers["Content-Disposition"] == 'attachment; filename="kpi-2026-11-01-2026-11-07.csv"'
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0].startswith("since,until,queue,offered,answered,abandoned") and len(lines) == 3
    assert client.get("/api/v1/reports/kpi?since=2026-11-01&until=2026-11-07").json["queues"][1]["queue"] == "cardio"


def test_report_refuses_a_bad_range(site):
    app, _ = site
    client = app.test_client()
    log_in(client, "super")
    assert client.get("/api/v1/reports/kpi?since=2026-11-08&until=2026-11-01").json == {"error": "since: after until"}
    assert client.get("/reports?since=yesterday").status_code == 400
    agent = app.test_client()
    log_in(agent, "agent1")
    assert agent.get("/reports").status_code == 403


def test_call_controls_are_checked_before_freeswitch(site):
    app, ids = site
    app.extensions["ccctl"].screen_pops.on_acd_event(
        {"type": "offered", "agent": "agent1", "call_uuid": "call-5", "patient_id": ids["anna"], "queue": "cardio"}
    )
    client = app.test_client()
    log_in(client, "agent1")
    headers = {"X-CSRF-Token": csrf(client)}

    def control(uuid: str, **body):
        return client.post(f"/api/v1/calls/{uuid}/control", json=body, headers=headers)

    assert (
        control("call-5", action="dance").json["error"]
        == "action: 'dance' is not one of hold, unhold, hangup, transfer"
    )
    assert control("call-5", action="transfer", target="1001; rm").status_code == 400
    assert control("call-6", action="hangup").status_code == 403
    # this controller has no inbound connection: the agent is told, nothing is sent
    refused = control("call-5", action="hangup")
    assert refused.status_code == 503 and refused.json["error"] == "no inbound ESL connection to FreeSWITCH"
    supervisor = app.test_client()
    log_in(supervisor, "super")
    monitor = supervisor.post(
        "/api/v1/monitor", json={"mode": "spy", "agent": "agent1"}, headers={"X-CSRF-Token": csrf(supervisor)}
    )
    assert monitor.status_code == 400 and monitor.json["error"].startswith("mode: 'spy' is not one of listen")


def test_admin_adds_an_agent_and_sees_the_queues(site):
    app, _ = site
    client = app.test_client()
    log_in(client, "admin")
    token = csrf(client)
    client.post("/admin/agents", data={"name": "ola", "extension": "1007", "skills": "cardio:5", "csrf_token": token})
    page = client.get("/admin/agents").get_data(as_text=True)
    assert "<td>ola</td><td>1007</td><td>logged_out</td>" in page and "cardio:5" in page
    assert "<td>cardio</td><td>longest-idle-agent</td>" in page
    bad = client.post("/admin/agents", data={"name": "x", "extension": "1", "skills": "a:99", "csrf_token": token},
                      follow_redirects=True)  # fmt: skip
    assert "skill &#39;a:99&#39;: write name or name:level" in bad.get_data(as_text=True)
    supervisor = app.test_client()
    log_in(supervisor, "super")
    assert supervisor.get("/admin/agents").status_code == 200
    assert supervisor.post("/admin/agents", data={"name": "y", "csrf_token": csrf(supervisor)}).status_code == 403
