"""Hold on the real switch, from the web console's call controls (POST /api/v1/calls/<uuid>/control).

A supervisor holds a patient's call with agent ann: ann's leg is held and the patient hears the music on
hold (SwitchSite's 300 Hz hum) in the call's recording; resume brings them back.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
import sipp
from acd_records import ended_call, kinds
from heard import HEARD, tone_level
from switch_site import CCCTL, QUEUE_FLOW, SwitchSite, add_cardio_queue

MOH_HZ = 300
PASSWORD = "switch-test-password"


@pytest.fixture
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}) as running:
        add_cardio_queue(running, no_answer_timeout=6)
        yield running


def console(site: SwitchSite) -> tuple[requests.Session, str]:
    """A logged-in supervisor's browser session and its CSRF token."""
    subprocess.run(
        [*CCCTL, "-c", str(site.config), "users", "add", "sam", "--role", "supervisor", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    base = f"http://127.0.0.1:{site.ports['web']}"
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    reply = browser.post(f"{base}/login", data={"name": "sam", "password": PASSWORD, "csrf_token": token}, timeout=10)
    assert reply.ok, reply.status_code
    # a login renews the CSRF token: the page it lands on carries the new one, as a browser would read it
    token = re.search(r'name="csrf-token" content="([^"]+)"', reply.text).group(1)
    return browser, token


def control(site: SwitchSite, browser: requests.Session, token: str, call_uuid: str, action: str) -> dict:
    reply = browser.post(
        f"http://127.0.0.1:{site.ports['web']}/api/v1/calls/{call_uuid}/control",
        json={"action": action},
        headers={"X-CSRF-Token": token},
        timeout=20,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def callstate(site: SwitchSite, extension: str) -> str:
    rows = json.loads(site.api("show channels as json") or "{}").get("rows", [])
    return " ".join(row.get("callstate", "") for row in rows if f"/{extension}@" in row.get("name", ""))


def test_a_held_call_plays_the_patient_music_until_it_is_resumed(site):
    ann = site.agent_phone("1001", talk_ms=14000, voice_hz=1000)
    site.ccctl("agents", "login", "ann")
    patient = site.patient([sipp.until_switch_hangs_up()], voice_hz=440)
    site.wait_for(lambda: ("answered", "ann") in kinds(site), 30, "ann talking to the patient")
    rows = json.loads(site.api("show channels as json")).get("rows", [])
    [call_uuid] = [row["uuid"] for row in rows if row["name"].startswith("sofia/trunk/")]
    browser, token = console(site)

    control(site, browser, token, call_uuid, "hold")
    site.wait_for(lambda: callstate(site, "1001") == "HELD", 10, "ann's leg held")
    time.sleep(3)  # the patient listens to the music a while
    control(site, browser, token, call_uuid, "unhold")
    site.wait_for(lambda: callstate(site, "1001") in ("ACTIVE", "UNHELD"), 10, "ann's leg back")

    assert patient.wait(40) == 0, patient.errors()
    assert ann.wait(10) == 0, ann.errors()
    assert ended_call(site)["disposition"] == "completed"
    [recording] = json.loads(site.ccctl("recordings", "list", "--json", "--as", "switch-test").stdout)
    assert tone_level(Path(recording["path"]), MOH_HZ, 2) > HEARD, "the patient heard the music on hold"
