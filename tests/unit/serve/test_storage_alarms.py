"""The folders calls and messages write to are watched: a nearly full one raises the disk alarm by name."""

from ccctl.config import AlarmThresholds, Settings
from ccctl.serve.controller import Controller
from ccctl.web.alarm_board import evaluate

CONNECTED = {"esl": {"inbound": {"status": "connected", "address": "127.0.0.1:8021"}}}


def test_a_nearly_full_recordings_folder_raises_the_disk_alarm():
    status = {
        **CONNECTED,
        "storage": {
            "recordings": {"path": "/srv/recordings", "free_percent": 0.0},
            "faxes": {"path": "/srv/faxes", "free_percent": 42.0},
        },
    }
    (alarm,) = evaluate(status, None, AlarmThresholds(), disk_free=None)
    assert (alarm.kind, alarm.subject) == ("disk_low", "/srv/recordings")
    assert alarm.text == "recordings folder /srv/recordings: 0.0% free (under 10.0%)"


def test_the_status_reports_the_free_space_of_each_folder(tmp_path):
    settings = Settings()
    settings.recordings_dir = str(tmp_path / "recordings")  # not made yet: its file system is its parent's
    settings.fax.faxes_dir = str(tmp_path)
    storage = Controller(settings, record_sink=lambda record: None, connect_inbound=False).status()["storage"]
    assert set(storage) == {"recordings", "faxes", "attachments"}
    assert storage["recordings"]["path"] == str(tmp_path / "recordings")
    assert 0.0 <= storage["recordings"]["free_percent"] <= 100.0
