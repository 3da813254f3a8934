"""A campaign's `webhook:` is an http(s) URL, checked at load with its file and line; the retry spacing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ccctl.campaigns.spec import CampaignFileError, load_spec
from ccctl.campaigns.webhooks import retry_after

CAMPAIGN = "name: flu\nflow: reminder\ntargets: {csv: flu.csv}\nwebhook: URL\ncalling: {windows: [{days: [mon], from: '09:00', to: '10:00'}]}\n"


def test_a_webhook_that_is_not_an_http_url_is_refused_with_its_line(tmp_path):
    (tmp_path / "flu.csv").write_text("patient_code\n")
    path = tmp_path / "flu.yaml"
    path.write_text(CAMPAIGN.replace("URL", "ftp://his.example/outcomes"))
    with pytest.raises(CampaignFileError) as refused:
        load_spec(path)
    assert refused.value.errors == [
        f"{path}:4: webhook must be an http:// or https:// URL, got 'ftp://his.example/outcomes'"
    ]
    path.write_text(CAMPAIGN.replace("URL", "https://his.example/outcomes"))
    assert load_spec(path).webhook == "https://his.example/outcomes"


def test_a_failed_post_waits_longer_each_time_up_to_an_hour():
    assert [retry_after(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert retry_after(20) == timedelta(hours=1)
