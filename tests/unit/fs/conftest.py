"""The rendered-directory fixture: every test taking `rendered` runs with each settings file."""

from __future__ import annotations

import pytest
from fs_preprocessor import assemble
from fs_rendering import Rendered, example_settings, several_hotlines_settings

from ccctl.deploy.fs_render import render_all


@pytest.fixture(params=["example", "several_hotlines"])
def rendered(request, tmp_path) -> Rendered:
    settings = example_settings() if request.param == "example" else several_hotlines_settings(tmp_path)
    out = tmp_path / "conf"
    written = render_all(settings, out)
    return Rendered(settings, out, written, assemble(out / "freeswitch.xml"))
