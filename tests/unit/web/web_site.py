"""A console for tests: a real (unstarted) Controller, a migrated database, users of each role, a patient."""

from __future__ import annotations

import dataclasses
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ccctl.config import load_settings
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.serve.controller import Controller
from ccctl.web.accounts import add_user
from ccctl.web.app import make_web_app

PASSWORD = "correct horse 1"


def console(db_url: str, **web_changes) -> tuple[Flask, Controller]:
    settings = load_settings("ccctl.yaml", environ={})
    web = dataclasses.replace(settings.web, port=0, secret_key="test-secret", **web_changes)
    settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=db_url), web=web)
    controller = Controller(settings, connect_inbound=False)
    app = make_web_app(controller, settings)
    app.config["TESTING"] = True
    return app, controller


def seed(db_url: str) -> dict[str, int]:
    """Users admin/super/agent1/agent2 (agent language pl for agent2) and two patients; the patients' ids."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as db, db.begin():
            add_user(db, "admin", "admin", PASSWORD)
            add_user(db, "super", "supervisor", PASSWORD)
            add_user(db, "agent1", "agent", PASSWORD)
            add_user(db, "agent2", "agent", PASSWORD, language="pl")
            anna = add_patient(db, PatientData("Anna", "Kowalska", ["+48600100200"], member_number="880001"), {})
            wei = add_patient(db, PatientData("Wei", "Zhang", ["+8613800000001"]), {})
            return {"anna": anna.id, "wei": wei.id}
    finally:
        engine.dispose()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client: FlaskClient, name: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_of(page)})


def csrf(client: FlaskClient) -> str:
    return csrf_of(client.get("/login").get_data(as_text=True))
