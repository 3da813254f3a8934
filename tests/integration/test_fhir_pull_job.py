"""`ccctl serve`'s FHIR pull job against a hospital FHIR server (a second ccctl console, as in test_fhir_pull):
the job's function runs with an injected clock and sleep, books the day's visits, and at its next turn follows
the hospital's cancellation; a refused token is logged and the job goes on."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_fhir_pull import NINE, book_at_the_hospital, hospital  # noqa: F401 - the fixture

from ccctl.config import load_settings
from ccctl.patients.fhir.jobs import FIRST_RUN_DELAY_SECONDS, pull_forever
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment


class Stop(Exception):
    """Ends the job's loop after the turns a test wants."""


def job_settings(tmp_path, sqlite_url, server: str, token: str):
    token_file = tmp_path / "his-token"
    token_file.write_text(token + "\n")
    pull = {"server": server, "token_file": str(token_file), "every_minutes": 5}
    config = {"database": {"url": sqlite_url}, "appointments": {"timezone": "Europe/Warsaw"}, "fhir_pull": pull}
    path = tmp_path / "ccctl.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_settings(path, environ={})


def test_the_job_pulls_the_day_and_follows_a_cancellation_at_its_next_turn(hospital, sqlite_url, tmp_path):  # noqa: F811
    base, token = hospital
    book_at_the_hospital(base, token, "MRN-1", "Kowalska", 1, "HIS-A-1")
    second = book_at_the_hospital(base, token, "MRN-2", "Zhang", 2, "HIS-A-2")
    settings = job_settings(tmp_path, sqlite_url, base, token)
    engine = make_engine(sqlite_url)
    waits: list[float] = []

    def statuses() -> dict[str, str]:
        with Session(engine) as db:
            return dict(db.execute(select(Appointment.external_id, Appointment.status)).all())

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # after the first turn: the hospital cancels one visit
            assert statuses() == {"HIS-A-1": "booked", "HIS-A-2": "booked"}
            cancel = {"resourceType": "Appointment", "id": second, "status": "cancelled"}
            cancel["participant"] = [{"status": "accepted"}]
            auth = {"Authorization": f"Bearer {token}"}
            assert requests.put(f"{base}/Appointment/{second}", json=cancel, headers=auth).ok
        if len(waits) == 3:
            raise Stop

    # the clock's day, in the site's zone, is the day the visits are on
    with pytest.raises(Stop):
        pull_forever(settings, clock=lambda: NINE - timedelta(hours=8), sleep=sleep)
    assert waits == [FIRST_RUN_DELAY_SECONDS, 300.0, 300.0]
    assert statuses() == {"HIS-A-1": "booked", "HIS-A-2": "cancelled"}
    engine.dispose()


def test_a_day_without_visits_pulls_nothing(hospital, sqlite_url, tmp_path):  # noqa: F811
    base, token = hospital
    book_at_the_hospital(base, token, "MRN-1", "Kowalska", 1, "HIS-A-1")
    settings = job_settings(tmp_path, sqlite_url, base, token)
    turns: list[float] = []

    def sleep(seconds: float) -> None:
        turns.append(seconds)
        if len(turns) == 2:
            raise Stop

    with pytest.raises(Stop):
        pull_forever(settings, clock=lambda: NINE + timedelta(days=3), sleep=sleep)
    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        assert db.scalars(select(Appointment)).all() == []
    engine.dispose()


def test_a_refused_token_is_logged_in_one_line_and_the_job_goes_on(hospital, sqlite_url, tmp_path, caplog):  # noqa: F811
    base, _ = hospital
    settings = job_settings(tmp_path, sqlite_url, base, "wrong")
    turns: list[float] = []

    def sleep(seconds: float) -> None:
        turns.append(seconds)
        if len(turns) == 3:
            raise Stop

    with caplog.at_level(logging.WARNING, logger="ccctl.patients.fhir.jobs"), pytest.raises(Stop):
        pull_forever(settings, clock=lambda: NINE, sleep=sleep)
    failed = [r.getMessage() for r in caplog.records if r.name == "ccctl.patients.fhir.jobs"]
    assert failed == [f"fhir pull failed: FHIR server {base}: the Appointment search failed (AuthorizationError)"] * 2
