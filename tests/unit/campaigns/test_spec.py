"""Campaign files are checked at load: every problem named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccctl.campaigns.spec import CampaignFileError, load_spec

REPO = Path(__file__).resolve().parents[3]


def test_the_shipped_example_campaign_checks():
    spec = load_spec(REPO / "ivr_flows" / "campaigns" / "reminders-example.yaml")
    assert (spec.name, spec.flow, spec.voice_attempts, spec.caps.per_second) == ("reminders-example", "reminder", 3, 2)
    assert spec.retry_minutes["busy"] == 10 and spec.time_zone == "Asia/Shanghai"


def test_every_mistake_is_reported_with_its_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: Bad Name\n"
        "kind: poll\n"
        "flow: reminder\n"
        "targets: {csv: missing.csv}\n"
        "calling:\n"
        "  time_zone: Mars/Olympus\n"
        "  windows:\n"
        "    - {days: [mon, funday], from: '09:00', to: '17:00'}\n"
        "  quiet_hours: ['lunch']\n"
        "retry: {voicemail: 5}\n"
        "caps: {concurrent: 0}\n"
    )
    with pytest.raises(CampaignFileError) as raised:
        load_spec(path)
    where = {error.split(": ", 1)[0].rsplit(":", 1)[1] for error in raised.value.errors}
    assert {"1", "2", "4", "6", "8", "9", "10", "11"} <= where
    assert all(error.startswith(f"{path}:") for error in raised.value.errors)
    assert any("unknown time zone 'Mars/Olympus'" in error for error in raised.value.errors)


def test_targets_must_name_exactly_one_list(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        "name: two\nflow: reminder\n"
        "targets:\n  csv: a.csv\n  patients: {specialty: cardio}\n"
        "calling: {windows: [{days: [mon], from: '09:00', to: '10:00'}]}\n"
    )
    with pytest.raises(CampaignFileError, match=r"two.yaml:4: targets: give exactly one of"):
        load_spec(path)
