"""`ccctl fs render` loads mod_avmd only when a campaign listens for answering machines (`machine:`)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from fs_rendering import example_settings

from ccctl.deploy.fs_render import render_all

CAMPAIGN = (
    "name: vm\nflow: reminder\ntargets: {patients: {specialty: cardio}}\n"
    "calling: {windows: [{days: [mon], from: '09:00', to: '10:00'}]}\n"
)


def loaded_modules(tmp_path, campaign: str) -> list[str]:
    flows = tmp_path / "flows"
    (flows / "campaigns").mkdir(parents=True)
    (flows / "campaigns" / "vm.yaml").write_text(campaign)
    settings = dataclasses.replace(example_settings(), flows_dir=str(flows))
    out = tmp_path / "conf"
    render_all(settings, out)
    modules = ET.parse(out / "autoload_configs" / "modules.conf.xml").getroot()
    return [load.get("module") for load in modules.iter("load")]


def test_a_campaign_with_machine_loads_mod_avmd_and_its_configuration(tmp_path):
    assert "mod_avmd" in loaded_modules(tmp_path, CAMPAIGN + "machine: hang_up\n")
    settings = ET.parse(tmp_path / "conf" / "autoload_configs" / "avmd.conf.xml").getroot()
    values = {param.get("name"): param.get("value") for param in settings.iter("param")}
    assert (values["outbound_channel"], values["inbound_channel"]) == ("1", "0")


def test_campaigns_without_machine_do_not_load_it(tmp_path):
    assert "mod_avmd" not in loaded_modules(tmp_path, CAMPAIGN)


def test_a_campaign_file_that_does_not_check_is_left_to_campaigns_check(tmp_path):
    assert "mod_avmd" not in loaded_modules(tmp_path, CAMPAIGN + "machine: sometimes\n")
