"""The wallboard counts the controllers on the database and raises an alarm for a silent one, in Chromium."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from acd_site import AcdSite, acd_settings
from sqlalchemy.orm import Session
from test_console_in_chromium import log_in
from web_site import seed

from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdProcess
from ccctl.records.models.base import utc_now


def test_the_wallboard_shows_a_silent_controller_beside_the_live_one(postgres_url, tmp_path, browser_page):
    seed(postgres_url)
    engine = make_engine(postgres_url)
    with Session(engine) as session, session.begin():  # a controller killed a few seconds ago
        session.add(AcdProcess(instance_id="node-b:4242:deadbeef", seen_at=utc_now() - timedelta(seconds=8)))
    engine.dispose()
    settings = acd_settings(postgres_url, tmp_path)  # a controller runs the ACD when its flows are on the database
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="browser-test"))
    with AcdSite(settings, {}) as site:
        host, port = site.controller.web_address
        log_in(browser_page, f"http://{host}:{port}", "super")
        browser_page.wait_for_selector("#alarm-list li.alarm-controller_lost")
        assert "controller node-b:4242:deadbeef silent for" in browser_page.text_content("#alarm-list")
        browser_page.wait_for_function("document.getElementById('controllers').textContent === '1/2'")
        assert "Controllers alive" in browser_page.text_content(".tiles")
