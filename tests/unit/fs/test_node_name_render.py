"""`ccctl fs render` names the node: freeswitch.node_name is switch.conf's switchname (FreeSWITCH-Switchname)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from fs_rendering import example_settings

from ccctl.config import ConfigError, load_settings
from ccctl.deploy.fs_render import RenderError, render_all


def switch_params(tmp_path, node_name: str) -> dict[str, str]:
    settings = example_settings()
    settings = dataclasses.replace(settings, freeswitch=dataclasses.replace(settings.freeswitch, node_name=node_name))
    render_all(settings, tmp_path / "conf")
    root = ET.parse(tmp_path / "conf" / "autoload_configs" / "switch.conf.xml").getroot()
    return {param.get("name"): param.get("value") for param in root.iter("param")}


def test_each_node_renders_its_own_switchname(tmp_path):
    assert switch_params(tmp_path / "a", "fs-a")["switchname"] == "fs-a"
    assert switch_params(tmp_path / "b", "fs-b")["switchname"] == "fs-b"


def test_without_a_node_name_freeswitch_keeps_the_host_name(tmp_path):
    assert "switchname" not in switch_params(tmp_path, "")


def test_a_node_name_xml_cannot_hold_is_refused_naming_the_key(tmp_path):
    with pytest.raises(RenderError, match="freeswitch.node_name"):
        switch_params(tmp_path, 'fs"a')


def test_esl_nodes_are_read_and_a_name_given_twice_is_refused(tmp_path):
    path = tmp_path / "ccctl.yaml"
    path.write_text("esl:\n  nodes:\n    - {name: fs-a, port: 8021}\n    - {name: fs-b, host: 10.0.0.12}\n")
    nodes = load_settings(path, environ={}).esl.nodes
    assert [(n.name, n.host, n.port) for n in nodes] == [("fs-a", "127.0.0.1", 8021), ("fs-b", "10.0.0.12", 8021)]
    path.write_text("esl:\n  nodes:\n    - {name: fs-a}\n    - {name: fs-a, port: 8022}\n")
    with pytest.raises(ConfigError, match=r"'esl.nodes\[1\].name' must be a node name, set and unique, got 'fs-a'"):
        load_settings(path, environ={})
    path.write_text("freeswitch:\n  node_name: 'fs a'\n")
    with pytest.raises(ConfigError, match="'freeswitch.node_name'"):
        load_settings(path, environ={})
