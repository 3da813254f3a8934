"""The flows' survey node: a survey it names must exist when the flows load; a missing one is FILE:LINE."""

from __future__ import annotations

from ccctl.ivr.catalog import load_catalog

FLOW = """\
flow: main
language: en
start: ask
nodes:
  ask:
    type: survey
    survey: {name}
    next: bye
  bye:
    type: hangup
"""


def load(tmp_path, name: str):
    (tmp_path / "surveys").mkdir()
    (tmp_path / "surveys" / "after-call.yaml").write_text("name: after-call\n")
    (tmp_path / "main.yaml").write_text(FLOW.format(name=name))
    return load_catalog(tmp_path, tmp_path / "prompts")


def test_a_survey_node_naming_a_survey_file_loads(tmp_path):
    loaded = load(tmp_path, "after-call")
    assert loaded.errors == [] and loaded.catalog is not None


def test_a_survey_node_naming_no_file_is_reported_with_its_line(tmp_path):
    loaded = load(tmp_path, "after-cal")
    assert [str(e) for e in loaded.errors] == [
        f"{tmp_path / 'main.yaml'}:7: node 'ask': survey 'after-cal': no surveys/after-cal.yaml in the flows folder"
    ]
