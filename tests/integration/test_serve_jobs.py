"""The background jobs `ccctl serve` starts: a failing recordings archive reaches the status (and so the alarm)."""

import dataclasses
import datetime as dt

import gevent
from emulated_site import site_settings
from sqlalchemy.orm import Session

from ccctl.config import AlarmThresholds
from ccctl.records.database import make_engine
from ccctl.records.models.media import Recording
from ccctl.serve.controller import Controller, welcome_for_every_hotline
from ccctl.web.alarm_board import evaluate


def test_a_failing_archive_shows_in_the_status_and_raises_the_alarm(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    with Session(engine) as db, db.begin():
        db.add(
            Recording(
                call_uuid="c0ffee00-0000-4000-8000-000000000001",
                path=str(tmp_path / "r.wav"),
                started_at=dt.datetime.now(dt.UTC),
                archive_error="upload failed: bucket not found",
            )
        )
    engine.dispose()
    settings = site_settings(sqlite_url, tmp_path)
    # every_seconds=0: no archive run in this test, only the watch on what the runs left behind
    archive = dataclasses.replace(settings.archive, bucket="hospital-recordings", every_seconds=0)
    settings = dataclasses.replace(settings, archive=archive)
    controller = Controller(
        settings, app_factory=welcome_for_every_hotline, record_sink=lambda r: None, connect_inbound=False
    )
    controller.start()
    try:
        controller.start_jobs()
        deadline = gevent.get_hub().loop.now() + 10
        while not controller.status()["recordings_archive"].get("failing") and gevent.get_hub().loop.now() < deadline:
            gevent.sleep(0.05)
        status = controller.status()
        assert status["recordings_archive"] == {"failing": 1, "last_error": "upload failed: bucket not found"}
        alarms = evaluate(status, None, AlarmThresholds(), disk_free=None)
        assert [a.kind for a in alarms] == ["recording_archive"]
    finally:
        controller.stop(grace=0.5)
