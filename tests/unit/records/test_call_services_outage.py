"""The flows' database steps wait out a short outage (a locked SQLite here) and give up past database.outage_seconds."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3

import gevent
import pytest

from ccctl.config import Settings
from ccctl.ivr.services import RecordsUnavailable
from ccctl.patients import commands as patient_commands
from ccctl.patients.call_services import DbCallServices
from ccctl.patients.repository import PatientData
from ccctl.records.database import sqlite_file

PHONE = "13900000042"


@pytest.fixture(autouse=True)
def quick_busy_timeout(monkeypatch):
    monkeypatch.setattr("ccctl.records.database.SQLITE_BUSY_TIMEOUT_MS", 200)


def services_with(url: str, outage_seconds: float) -> DbCallServices:
    settings = Settings()
    settings = dataclasses.replace(
        settings, database=dataclasses.replace(settings.database, outage_seconds=outage_seconds)
    )
    return DbCallServices(url, settings)


def lock(url: str) -> sqlite3.Connection:
    """Another program holding the whole database until it rolls back."""
    holder = sqlite3.connect(sqlite_file(url), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def release(holder: sqlite3.Connection) -> None:
    holder.execute("ROLLBACK")
    holder.close()


def test_a_step_waits_out_a_locked_database_then_goes_through_and_the_outage_clears(sqlite_url, caplog):
    patient_commands.add(sqlite_url, PatientData("Anna", "Nowak", [PHONE]), None, "test")
    services = services_with(sqlite_url, outage_seconds=10)
    seen: list[str] = []

    def watch() -> None:
        while True:
            seen.append(services.outage)
            gevent.sleep(0.1)

    try:
        releasing = gevent.spawn_later(1.5, release, lock(sqlite_url))
        watcher = gevent.spawn(watch)
        with caplog.at_level(logging.WARNING, "ccctl.patients.call_services"):
            patient = services.find_patient_by_phone(PHONE)
        releasing.join()
        watcher.kill()
    finally:
        services.close()
    assert patient is not None and patient.display_name.startswith("Anna")
    assert any("database is locked" in outage for outage in seen)
    assert services.outage == ""
    assert "wait for it" in caplog.text and PHONE not in caplog.text and "Nowak" not in caplog.text


def test_past_the_bound_the_step_raises_records_unavailable_in_one_line_while_the_lock_is_still_held(sqlite_url):
    patient_commands.add(sqlite_url, PatientData("Anna", "Nowak", [PHONE]), None, "test")
    services = services_with(sqlite_url, outage_seconds=0.5)
    holder = lock(sqlite_url)
    try:
        with pytest.raises(RecordsUnavailable) as err:
            services.find_patient_by_phone(PHONE)
        still_locked = holder.in_transaction
    finally:
        release(holder)
        services.close()
    assert str(err.value) == f"database {sqlite_url}: database is locked"
    assert still_locked


def test_a_missing_table_is_no_outage_and_is_not_waited_for(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    services = services_with(url, outage_seconds=30)
    try:
        with caplog.at_level(logging.WARNING, "ccctl.patients.call_services"):
            with pytest.raises(RecordsUnavailable, match="no such table"):
                services.find_patient_by_member_number("123456")
    finally:
        services.close()
    assert "wait for it" not in caplog.text
    assert services.outage == ""
