"""`ccctl flow check`: every error class, from a broken flow file each, names file, line and node."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, FLOWS_DIR

from ccctl.cli import main
from ccctl.ivr.registry import check_flows

PROMPTS = FIXTURES / "prompts"


def errors_of(name: str) -> list[str]:
    path = FIXTURES / name
    report = check_flows(FLOWS_DIR, PROMPTS, [str(path)])
    return [str(error).replace(str(path), name).replace(str(PROMPTS), "PROMPTS") for error in report.errors]


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "unknown_node_type.yaml",
            "unknown_node_type.yaml:8: node 'goodbye': unknown node type 'hangupp' (known: authenticate, book, "
            "branch, callback_request, collect, goto, hangup, info, kb, lookup, menu, play, queue, record, set, subflow, survey, "
            "transfer, visits)",
        ),
        (
            "missing_required_field.yaml",
            "missing_required_field.yaml:4: node 'main_menu': missing required key 'choices' for a menu node",
        ),
        (
            "wrong_field_type.yaml",
            "wrong_field_type.yaml:6: node 'main_menu': 'timeout' must be a number of seconds, got 'five'",
        ),
        (
            "unreachable_node.yaml",
            "unreachable_node.yaml:8: node 'forgotten': unreachable: no path leads here from the start node 'welcome'",
        ),
        (
            "loop_without_exit.yaml",
            "loop_without_exit.yaml:8: node 'count': loop with no exit and no caller input: count -> again -> count",
        ),
        (
            "missing_prompt_file.yaml",
            "missing_prompt_file.yaml:9: node 'goodbye': 'prompt': prompt file 'greetings/goodbye.wav' "
            "does not exist under PROMPTS",
        ),
        (
            "bad_regex.yaml",
            "bad_regex.yaml:9: node 'patient_code': 'regex': bad regular expression '^[0-9{6,8}$' "
            "(unterminated character set at position 1)",
        ),
        (
            "jinja_syntax_error.yaml",
            "jinja_syntax_error.yaml:5: node 'welcome': 'prompt': Jinja2: unexpected '}'",
        ),
        (
            "unknown_subflow.yaml",
            "unknown_subflow.yaml:5: node 'complaint': unknown subflow 'shared/complaints' "
            "(shared flows: shared/complaint, shared/voice_message)",
        ),
        (
            "duplicate_node_names.yaml",
            "duplicate_node_names.yaml:9: node 'goodbye': duplicate node name (first defined on line 7)",
        ),
        (
            "missing_prompt_text.yaml",
            "missing_prompt_text.yaml:6: node 'welcome': 'prompt': prompt 'welcome_back' has no text or recorded "
            f"file in languages 'en', 'pl' ({FLOWS_DIR / 'prompt_text' / 'en.yaml'}, "
            f"{FLOWS_DIR / 'prompt_text' / 'pl.yaml'})",
        ),
    ],
)
def test_each_error_class_is_reported_with_file_line_and_node(name, expected):
    assert errors_of(name) == [expected]


def test_a_goto_or_next_to_a_missing_node_names_the_key_and_the_target():
    assert errors_of("unknown_target.yaml") == [
        "unknown_target.yaml:12: node 'main_menu': 'choices.2' goes to 'registraton', which is not a node of this flow",
        "unknown_target.yaml:15: node 'goodbye': 'to' goes to 'hang_up', which is not a node of this flow",
    ]


def test_a_loop_through_a_menu_is_fine_because_the_caller_chooses(tmp_path):
    flow = tmp_path / "menu_loop.yaml"
    flow.write_text(
        "nodes:\n"
        "  menu:\n    type: menu\n    prompt: 'say:Press 1 to hear it again.'\n    choices: {'1': again}\n"
        "  again:\n    type: play\n    prompt: 'say:Again.'\n    next: menu\n"
    )
    assert check_flows(FLOWS_DIR, PROMPTS, [str(flow)]).errors == []


def test_the_shipped_flows_pass_the_check():
    report = check_flows(FLOWS_DIR)
    assert [str(e) for e in report.errors] == []
    assert report.flow_count == 3


def test_cli_prints_each_error_and_exits_1():
    path = FIXTURES / "unknown_target.yaml"
    result = CliRunner().invoke(main, ["flow", "check", "--flows-dir", str(FLOWS_DIR), str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:12: node 'main_menu': 'choices.2' goes to 'registraton', which is not a node of this flow",
        f"{path}:15: node 'goodbye': 'to' goes to 'hang_up', which is not a node of this flow",
    ]
    assert "ccctl: 2 errors in flows" in result.stderr


def test_cli_says_how_many_flows_are_ok():
    result = CliRunner().invoke(main, ["flow", "check", "--flows-dir", str(FLOWS_DIR)])
    assert (result.exit_code, result.stdout) == (0, "3 flows OK\n")


def test_cli_checks_a_hotline_by_name():
    result = CliRunner().invoke(main, ["flow", "check", "--flows-dir", str(FLOWS_DIR), "main"])
    assert (result.exit_code, result.stdout) == (0, "1 flow OK\n")


def test_cli_show_prints_the_nodes_with_their_ways_out():
    result = CliRunner().invoke(main, ["flow", "show", "--flows-dir", str(FLOWS_DIR), "main"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"flow main  ({FLOWS_DIR / 'main.yaml'}, version 1-")
    assert any(line.split() == ["welcome", "play", "text:welcome"] for line in lines)
    assert any(
        "choices.1 -> english, choices.2 -> chinese, choices.3 -> polish, on_failure -> english" in line
        for line in lines
    )
    assert any(line.split()[:3] == ["cardiology_expert", "queue", "skill=cardiology"] for line in lines)
    assert any(line.startswith("sub-flow shared/complaint") for line in lines)


def test_cli_show_of_an_unknown_hotline_fails_with_one_line():
    result = CliRunner().invoke(main, ["flow", "show", "--flows-dir", str(FLOWS_DIR), "nosuch"])
    assert result.exit_code == 1
    assert result.stderr == f"ccctl: no flow for hotline 'nosuch' in {FLOWS_DIR}\n"
