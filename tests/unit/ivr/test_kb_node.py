"""The kb node: articles checked at load in every language the flow speaks, then spoken by TTS."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest
from call_driver import ScriptedCaller, drive
from memory_services import MemoryServices

from ccctl.ivr.errors import FlowCheckFailed
from ccctl.ivr.fs_args import say
from ccctl.ivr.registry import FlowRegistry, check_flows
from ccctl.kb.knowledge import KnowledgeBase

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "ivr_flows" / "examples" / "kb_info.yaml"
NOON = dt.datetime(2026, 3, 10, 12, 0)


def flows_with(tmp_path: Path, name: str, text: str) -> Path:
    """A flows dir with the shipped prompt sets and one flow file."""
    flows = tmp_path / "flows"
    shutil.copytree(REPO / "ivr_flows" / "prompt_text", flows / "prompt_text")
    (flows / f"{name}.yaml").write_text(text)
    return flows


def write_article(kb: Path, language: str, slug: str, short: str, valid_until: str = "2030-01-01") -> None:
    path = kb / language / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\ntitle: {slug}\nquestions: [{slug}]\nshort: {short}\nvalid_until: {valid_until}\n"
        f"owner: desk@example.org\n---\n{short}\n"
    )


def test_the_example_flow_speaks_the_chosen_topic_in_the_callers_language(tmp_path):
    flows = flows_with(tmp_path, "kb_info", EXAMPLE.read_text())
    kb = KnowledgeBase(REPO / "kb")
    registry = FlowRegistry(flows, services=MemoryServices(), clock=lambda: NOON, recordings_dir=tmp_path, kb=kb)
    call = drive(registry.app_factory(_call("kb_info")), ScriptedCaller(keys=["2", "3"]), hotline="kb_info")
    assert say(kb.short_answer("parking", "zh")) in call.spoken()
    assert call.path[-5:] == ["chinese", "topics", "topics:parking", "goodbye", "hang_up"]
    assert "再见" in call.spoken()[-1]  # goodbye in Chinese too


def test_a_caller_who_picks_no_topic_hears_the_default_article(tmp_path):
    flows = flows_with(tmp_path, "kb_info", EXAMPLE.read_text())
    kb = KnowledgeBase(REPO / "kb")
    registry = FlowRegistry(flows, services=MemoryServices(), clock=lambda: NOON, recordings_dir=tmp_path, kb=kb)
    call = drive(registry.app_factory(_call("kb_info")), ScriptedCaller(keys=["3", "", ""]), hotline="kb_info")
    assert "topics:opening-hours" in call.path
    assert say(kb.short_answer("opening-hours", "pl")) in call.spoken()


FLOW = textwrap.dedent(
    """\
    flow: info
    languages: [en, pl]
    nodes:
      answer:
        type: kb
        article: parking
        unavailable_prompt: "say:Not available."
    """
)


def test_an_article_missing_in_one_language_or_past_valid_until_fails_the_check(tmp_path):
    kb = tmp_path / "kb"
    write_article(kb, "en", "parking", "Park at the gate.")
    flows = flows_with(tmp_path, "info", FLOW)
    source = flows / "info.yaml"
    errors = [str(e) for e in check_flows(flows, kb=KnowledgeBase(kb)).errors]
    assert errors == [
        f"{source}:6: node 'answer': no article 'parking' in {kb / 'pl'} (or it does not pass ccctl kb check)"
    ]
    write_article(kb, "pl", "parking", "Parkuj przy bramie.", valid_until="2020-01-01")
    errors = [str(e) for e in check_flows(flows, kb=KnowledgeBase(kb)).errors]
    assert errors == [f"{source}:6: node 'answer': article 'parking' (pl) is past its valid_until date"]
    write_article(kb, "pl", "parking", "Parkuj przy bramie.")
    assert check_flows(flows, kb=KnowledgeBase(kb)).errors == []
    assert [str(e) for e in check_flows(flows).errors] == [
        f"{source}:5: node 'answer': a kb node needs the knowledge base (settings kb.dir), and none was given"
    ]


@pytest.mark.parametrize(
    "node, message",
    [
        ("type: kb", "5: node 'answer': a kb node needs 'article' (one article) or 'topics' (key: article)"),
        ("type: kb\n    topics: {'1': parking}", "6: node 'answer': 'topics' needs a 'prompt' that names them"),
        ("type: kb\n    article: Parking Lot", "6: node 'answer': 'Parking Lot' is not an article slug (lower-case "
         "letters, digits and -)"),
        ("type: kb\n    prompt: 'say:Pick.'\n    topics: {'12': parking}",
         "7: node 'answer': topic '12' must be one keypad key (0-9, '*' or '#', quoted)"),
    ],
)  # fmt: skip
def test_a_kb_node_written_wrong_is_refused_at_load(tmp_path, node, message):
    kb = tmp_path / "kb"
    write_article(kb, "en", "parking", "Park at the gate.")
    flows = flows_with(tmp_path, "info", f"flow: info\nlanguages: [en]\nnodes:\n  answer:\n    {node}\n")
    with pytest.raises(FlowCheckFailed) as failed:
        FlowRegistry(flows, services=MemoryServices(), kb=KnowledgeBase(kb))
    assert [str(e) for e in failed.value.errors] == [f"{flows / 'info.yaml'}:{message}"]


def test_an_article_removed_after_loading_is_replaced_by_the_unavailable_prompt(tmp_path, monkeypatch):
    monkeypatch.setattr("ccctl.kb.knowledge.RECHECK_SECONDS", 0.0)
    kb = tmp_path / "kb"
    write_article(kb, "en", "parking", "Park at the gate.")
    write_article(kb, "pl", "parking", "Parkuj przy bramie.")
    flows = flows_with(tmp_path, "info", FLOW)
    registry = FlowRegistry(flows, services=MemoryServices(), clock=lambda: NOON, kb=KnowledgeBase(kb))
    assert drive(registry.app_factory(_call("info")), ScriptedCaller(), hotline="info").spoken() == [
        say("Park at the gate.")
    ]
    (kb / "en" / "parking.md").unlink()
    call = drive(registry.app_factory(_call("info")), ScriptedCaller(), hotline="info")
    assert call.spoken() == [say("Not available.")] and call.path == ["answer", "answer:unavailable"]


def _call(hotline: str):
    from call_driver import CALL_UUID

    from ccctl.callflow import CallInfo

    return CallInfo(CALL_UUID, "13800000001", "7000", hotline)
