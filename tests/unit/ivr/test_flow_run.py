"""The interpreter on small flows: templates and quoting, collect, lookups, branches, transfer, failures."""

from __future__ import annotations

import datetime as dt
import logging
import textwrap

import pytest
from call_driver import CALL_UUID, ScriptedCaller, app_result, drive, fs_split
from memory_services import MemoryServices

from ccctl.callflow import CallInfo, Finish
from ccctl.ivr.fs_args import say, tts_safe
from ccctl.ivr.registry import FlowRegistry
from ccctl.ivr.services import PatientView

CALLER = "13800000001"
TUESDAY_NOON = dt.datetime(2026, 3, 10, 12, 0)


def flow_run(tmp_path, body: str, services: MemoryServices, now: dt.datetime = TUESDAY_NOON):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "main.yaml").write_text(textwrap.dedent(body))
    registry = FlowRegistry(flows, services=services, clock=lambda: now, recordings_dir=tmp_path / "rec")
    return registry.app_factory(_call())


def _call():
    return CallInfo(CALL_UUID, CALLER, "7000", "main")


HOSTILE_NAME = "O'Brien ${system(rm -rf /)} \\s\nx {{ 7*7 }} a|b"


def test_patient_variables_render_into_tts_and_cannot_break_the_digit_arguments(tmp_path):
    patient = PatientView(7, "P7", HOSTILE_NAME, member=False)
    services = MemoryServices(others={CALLER: patient})
    app = flow_run(
        tmp_path,
        """
        nodes:
          who:
            type: lookup
            by: caller_number
            found: code
          code:
            type: collect
            prompt: "say:Hello {{ patient.display_name }}, please enter your code."
            variable: code
        """,
        services,
    )
    call = drive(app, ScriptedCaller(keys=["1234"]))
    pagd = next(c for c in call.commands if c.app == "play_and_get_digits")
    assert "${" not in pagd.arg and pagd.arg.count("'") == 2  # only the quotes around the prompt
    assert fs_split(pagd.arg) == [
        "1", "20", "1", "6000", "#",
        "say:Hello O\u2019Brien $(system(rm -rf /)) s x (( 7*7 )) a/b, please enter your code.",
        "silence_stream://250", "cc_code", "^[0-9*#]+$", "3000",
    ]  # fmt: skip
    assert app.context.variables["code"] == "1234"


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("It's ${hangup()} now", "It\u2019s $(hangup()) now"),
        ("line\r\none\ttab", "line one tab"),
        ("back\\'slash", "back \u2019slash"),
        ("", ""),
    ],
)
def test_tts_text_is_made_inert_for_freeswitch(text, spoken):
    assert tts_safe(text) == spoken
    assert say(text) == (f"say:{spoken}" if spoken else "silence_stream://250")


def test_collect_checks_length_and_regex_in_python_then_retries(tmp_path):
    app = flow_run(
        tmp_path,
        """
        nodes:
          code:
            type: collect
            prompt: "say:Your patient code."
            variable: code
            min_length: 6
            max_length: 8
            regex: "^9[0-9]+$"
            invalid_prompt: "say:That code is not valid."
            tries: 3
            next: thanks
            on_failure: bye
          thanks:
            type: play
            prompt: "say:Thank you, code {{ code }}."
          bye:
            type: hangup
        """,
        MemoryServices(),
    )
    call = drive(app, ScriptedCaller(keys=["12", "12345678", "9123456"]))
    assert call.path == ["code", "code:invalid", "code:invalid", "thanks"]
    assert call.spoken() == [
        "say:Your patient code.", "say:That code is not valid.", "say:Your patient code.", "say:That code is not valid.",
        "say:Your patient code.", "say:Thank you, code 9123456.",
    ]  # fmt: skip
    assert call.finish == Finish("completed")


HTTP_FLOW = """
nodes:
  ask_his:
    type: lookup
    by: http
    url: "https://his.example/appointments"
    params: {phone: "{{ caller_number }}"}
    timeout: 1.5
    save_as: his
    found: tell
    not_found: none
    on_error: fallback
  tell:
    type: play
    prompt: "say:Your next appointment is on {{ his.date }}."
  none:
    type: play
    prompt: "say:You have no appointment."
  fallback:
    type: play
    prompt: "say:The appointment system is not available."
"""


@pytest.mark.parametrize(
    "answers, heard",
    [
        ({"https://his.example/appointments": {"date": "March 12"}}, "say:Your next appointment is on March 12."),
        ({"https://his.example/appointments": None}, "say:You have no appointment."),
        ({}, "say:The appointment system is not available."),  # timeout or error
    ],
)
def test_http_lookup_with_timeout_and_fallback(tmp_path, answers, heard):
    services = MemoryServices(http_answers=answers)
    call = drive(flow_run(tmp_path, HTTP_FLOW, services), ScriptedCaller())
    assert call.spoken() == [heard]
    assert services.http_calls == [("https://his.example/appointments", {"phone": CALLER}, 1.5)]


BRANCH_FLOW = """
nodes:
  route:
    type: branch
    rules:
      - when: "channel.cc_vip == 'yes'"
        next: vip
      - weekday: [sat, sun]
        next: weekend
      - time: ["08:00-12:00", "13:00-17:00"]
        weekday: mon-fri
        next: open
    default: closed
  vip: {type: transfer, destination: "1000"}
  weekend: {type: play, prompt: "say:weekend"}
  open: {type: play, prompt: "say:open"}
  closed: {type: play, prompt: "say:closed"}
"""


@pytest.mark.parametrize(
    "now, heard",
    [
        (dt.datetime(2026, 3, 10, 9, 30), "say:open"),
        (dt.datetime(2026, 3, 10, 12, 30), "say:closed"),  # lunch break
        (dt.datetime(2026, 3, 14, 10, 0), "say:weekend"),
        (dt.datetime(2026, 3, 10, 17, 0), "say:closed"),
    ],
)
def test_branch_on_weekday_and_time_spans(tmp_path, now, heard):
    call = drive(flow_run(tmp_path, BRANCH_FLOW, MemoryServices(), now), ScriptedCaller())
    assert call.spoken() == [heard]


def test_transfer_leaves_the_flow_without_hanging_up(tmp_path):
    app = flow_run(tmp_path, BRANCH_FLOW, MemoryServices())
    call = _call()
    call.variables["cc_vip"] = "yes"
    assert app.start(call).app == "answer"
    assert app.resume(app_result("answer")).arg == "1000 XML default"
    assert app.resume(app_result("transfer")) == Finish("transferred", "")


def test_a_failing_service_fails_the_call_without_caller_data(tmp_path, caplog):
    class BrokenServices(MemoryServices):
        def find_patient_by_phone(self, phone):
            raise ConnectionError(f"database down while looking up {phone}")

    body = "nodes:\n  who: {type: lookup, by: caller_number, found: hi, not_found: hi}\n  hi: {type: play, prompt: 'say:hi'}\n"
    app = flow_run(tmp_path, body, BrokenServices())
    call = drive(app, ScriptedCaller())
    assert call.finish == Finish("failed", "NORMAL_TEMPORARY_FAILURE")
    assert app.error == "ConnectionError in flow main"
    assert call.path == ["who", "error"]
    assert CALLER not in caplog.text


def test_a_loop_that_never_talks_to_the_caller_is_stopped(tmp_path):
    body = """
    nodes:
      hello: {type: play, prompt: "say:hello", next: count}
      count: {type: set, values: {n: "{{ (n | default(0) | int) + 1 }}"}, next: check}
      check:
        type: branch
        rules: [{when: "n | int > 100000", next: done}]
        default: count
      done: {type: hangup}
    """
    app = flow_run(tmp_path, body, MemoryServices())
    call = drive(app, ScriptedCaller())
    assert call.finish.disposition == "failed"
    assert app.error == "flow main looped through count without talking to the caller"


def test_set_language_switches_prompt_set_and_tts_voice(tmp_path):
    (tmp_path / "flows" / "prompt_text").mkdir(parents=True)
    (tmp_path / "flows" / "prompt_text" / "en.yaml").write_text("language: en\nprompts: {hi: Hello}\n")
    (tmp_path / "flows" / "prompt_text" / "pl.yaml").write_text(
        "language: pl\ntts_engine: flite\ntts_voice: pl_voice\nprompts: {hi: Cze\u015b\u0107}\n"
    )
    body = "nodes:\n  to_pl: {type: set, values: {language: pl}, next: hi}\n  hi: {type: play, prompt: 'text:hi'}\n"
    call = drive(flow_run(tmp_path, body, MemoryServices()), ScriptedCaller())
    assert [(c.app, c.arg) for c in call.commands] == [
        ("answer", ""), ("set", "tts_engine=flite"), ("set", "tts_voice=pl_voice"), ("playback", "say:Cze\u015b\u0107"),
    ]  # fmt: skip


def test_logs_name_flows_not_callers(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    call = drive(flow_run(tmp_path, HTTP_FLOW, MemoryServices()), ScriptedCaller())
    assert call.spoken() == ["say:The appointment system is not available."]
    assert "flow main node ask_his: http lookup failed" in caplog.text
    assert CALLER not in caplog.text
