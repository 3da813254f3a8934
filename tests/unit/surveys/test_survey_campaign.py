"""A survey campaign must run a flow that asks a survey: the shipped example checks, a reminder flow does not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ccctl.campaigns.commands import check
from ccctl.campaigns.spec import CampaignFileError
from ccctl.config import load_settings

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "ivr_flows" / "campaigns" / "survey-example.yaml"


def settings():
    loaded = load_settings(str(REPO / "ccctl.yaml"), environ={})
    return dataclasses.replace(loaded, flows_dir=str(REPO / "ivr_flows"))


def test_the_shipped_survey_campaign_checks():
    assert check(settings(), str(EXAMPLE)).kind == "survey"


def test_a_survey_campaign_whose_flow_asks_no_survey_is_refused(tmp_path):
    path = tmp_path / "survey-example.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("flow: survey ", "flow: reminder "))
    with pytest.raises(CampaignFileError) as caught:
        check(settings(), str(path))
    assert caught.value.errors == [f"{path}: kind survey: flow 'reminder' has no survey node (docs/surveys.md)"]
