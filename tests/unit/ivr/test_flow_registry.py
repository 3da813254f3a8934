"""Reloading flows: a good change swaps in, a broken one is refused, a running call keeps its version."""

from __future__ import annotations

import shutil

import pytest
from call_driver import CALL_UUID, ScriptedCaller, app_result, drive
from conftest import FLOWS_DIR, OPEN, make_registry

from ccctl.callflow import CallInfo, Execute
from ccctl.ivr.errors import FlowCheckFailed
from ccctl.ivr.interpreter import FlowRun
from ccctl.ivr.registry import FlowRegistry, UnknownHotline

NEW_WELCOME = "say:Welcome to the new City Hospital hotline."


@pytest.fixture
def flows_dir(tmp_path):
    target = tmp_path / "ivr_flows"
    shutil.copytree(FLOWS_DIR, target)
    return target


def edit_main(flows_dir, old: str, new: str) -> None:
    path = flows_dir / "main.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def call() -> CallInfo:
    return CallInfo(CALL_UUID, "13800000001", "7000", "main")


def test_a_good_change_is_swapped_in_with_a_new_version(flows_dir, services, tmp_path):
    registry = make_registry(services, OPEN, tmp_path, flows_dir)
    before = registry.get("main")
    edit_main(flows_dir, "prompt: text:welcome", f'prompt: "{NEW_WELCOME}"')
    assert registry.reload() == []
    after = registry.get("main")
    assert after is not before
    assert (before.version.split("-")[0], after.version.split("-")[0]) == ("1", "2")
    assert after.digest != before.digest
    assert registry.app_factory(call()).start(call()).app == "answer"


def test_a_broken_change_is_refused_and_the_old_flow_stays(flows_dir, services, tmp_path):
    registry = make_registry(services, OPEN, tmp_path, flows_dir)
    before = registry.get("main")
    edit_main(flows_dir, "next: choose_language", "next: choose_langauge")
    errors = registry.reload()
    assert [str(e) for e in errors] == [
        f"{flows_dir / 'main.yaml'}:14: node 'welcome': 'next' goes to 'choose_langauge', "
        "which is not a node of this flow",
        f"{flows_dir / 'main.yaml'}:17: node 'choose_language': unreachable: no path leads here from the start node "
        "'welcome'",
    ]
    assert registry.get("main") is before


def test_a_call_started_before_a_reload_finishes_on_its_version(flows_dir, services, tmp_path):
    registry = make_registry(services, OPEN, tmp_path, flows_dir)
    running = registry.app_factory(call())
    assert running.start(call()).app == "answer"
    edit_main(flows_dir, "prompt: text:welcome", f'prompt: "{NEW_WELCOME}"')
    edit_main(flows_dir, '"1": english', '"1": polish')
    assert registry.reload() == []
    old_welcome = "say:" + registry.catalog.prompt_sets["en"].texts["welcome"]
    assert running.resume(app_result("answer")).arg == old_welcome
    old_path = drive_on(running, ["1", "2", "1"])
    new = drive(registry.app_factory(call()), ScriptedCaller(keys=["1", "2", "1"]))
    assert "english" in old_path and "polish" not in old_path
    assert "polish" in new.path
    assert new.commands[1].arg == NEW_WELCOME


def drive_on(app: FlowRun, keys) -> list[str]:
    """Continue a started call (after the welcome prompt) to its end; its path."""
    caller = ScriptedCaller(keys=list(keys))
    command = app.resume(app_result("playback"))
    while isinstance(command, Execute):
        command = app.resume(caller.result_for(command))
    return app.path


def test_a_registry_refuses_to_start_on_broken_flows(flows_dir):
    edit_main(flows_dir, "type: menu", "type: menuu")
    with pytest.raises(FlowCheckFailed) as caught:
        FlowRegistry(flows_dir)
    assert "unknown node type 'menuu'" in str(caught.value)


def test_app_factory_picks_the_flow_by_hotline(registry):
    assert registry.app_factory(call()).flow is registry.get("main")
    with pytest.raises(UnknownHotline):
        registry.app_factory(CallInfo(CALL_UUID, "1", "7001", "pharmacy"))
    with pytest.raises(UnknownHotline):
        registry.get("shared/complaint")  # sub-flows are not hotlines


def test_a_configured_hotline_without_its_flow_is_refused_at_start(flows_dir):
    with pytest.raises(FlowCheckFailed) as caught:
        FlowRegistry(flows_dir, hotline_flows={"main": "main", "pharmacy": "pharmacy"})
    assert str(caught.value) == f"{flows_dir / 'pharmacy.yaml'}: hotline 'pharmacy' needs this flow, which is missing"


def test_a_missing_flows_directory_is_named(tmp_path):
    with pytest.raises(FlowCheckFailed) as caught:
        FlowRegistry(tmp_path / "nowhere")
    assert str(caught.value) == f"{tmp_path / 'nowhere'}: flows directory not found (check flows_dir)"
