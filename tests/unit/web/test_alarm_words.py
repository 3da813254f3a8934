"""Every alarm is a code with its figures, and every code reads in English, Chinese and Polish."""

import string

from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent
from ccctl.config import AlarmThresholds
from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdAlarm, Agent
from ccctl.web.alarm_board import alarm_text, evaluate, stored_acd_alarms
from ccctl.web.words import WORDS, translator

LIMITS = AlarmThresholds(caller_wait_seconds=60, queue_full_callers=1, agent_max_no_answer=1)
EVERYTHING_WRONG = {
    "esl": {"nodes": [{"name": "fs-a", "status": "connected"}, {"name": "fs-b", "address": "10.0.0.2:8021"}]},
    "storage": {"recordings": {"path": "/srv/rec", "free_percent": 2.0}},
    "database": {"status": "unreachable", "last_error": "connection refused"},
    "controllers": [{"instance": "node-b:42", "health": "silent", "seen_seconds_ago": 9}],
    "gateways": {"sms": {"status": "down", "last_error": "127.0.0.1:13013 unreachable"}},
    "recordings_archive": {"failing": True, "last_error": "S3 403"},
}
BUSY_ACD = {
    "queues": [{"name": "cardio", "waiting": [{"wait_seconds": 90}], "service_level_today": 0.5}],
    "agents": [{"name": "ola", "no_answer_count": 2}],
}


def raised_alarms(sqlite_url):
    lost_link = {"esl": {"inbound": {"status": "connecting", "address": "10.0.0.1:8021"}}}
    alarms = [*evaluate(EVERYTHING_WRONG, BUSY_ACD, LIMITS, 3.0), *evaluate(lost_link, None, LIMITS, None)]
    add_agent(sqlite_url, "ola", "1001", {})
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as db, db.begin():
            agent_id = db.query(Agent.id).filter(Agent.name == "ola").scalar()
            db.add(AcdAlarm(kind="agent_no_answer", agent_id=agent_id, queue="cardio", detail="agent ola missed 3"))
            db.add(AcdAlarm(kind="queue_closed", queue="cardio", detail="closed by hand"))  # a kind without words
        with Session(engine) as db:
            alarms += stored_acd_alarms(db)
    finally:
        engine.dispose()
    return alarms


def names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_alarm_code_has_its_words_in_the_three_languages(sqlite_url):
    alarms = raised_alarms(sqlite_url)
    codes = {alarm.code for alarm in alarms}
    assert codes == {
        "node_lost", "esl_lost", "disk_low", "folder_low", "caller_waiting", "queue_full", "service_level",
        "agent_no_answer", "database", "controller_lost", "gateway_down", "recording_archive", "agent_on_break", "acd",
    }  # fmt: skip
    for language in ("en", "zh", "pl"):
        for alarm in alarms:
            words = WORDS[language].get(f"alarm_{alarm.code}")
            assert words, f"{language}: no words for alarm {alarm.code}"
            assert names(words) == set(alarm.params), f"{language}: alarm_{alarm.code} names other figures"
    shipped = {key for key in WORDS["en"] if key.startswith("alarm_") and not key.startswith("alarm_notice")}
    assert shipped == {f"alarm_{code}" for code in codes}  # no words left over for a code nothing raises


def test_an_alarm_reads_in_the_viewers_language_and_an_old_row_stays_readable(sqlite_url):
    alarms = {alarm.code: alarm for alarm in raised_alarms(sqlite_url)}
    waiting = alarms["caller_waiting"]
    assert waiting.text == "queue cardio: a caller waits 90 s (over 60 s)"
    assert (
        alarm_text(waiting.code, waiting.params, translator("zh")) == "队列 cardio：有来电者已等待 90 秒（超过 60 秒）"
    )
    assert (
        alarm_text(waiting.code, waiting.params, translator("pl"))
        == "kolejka cardio: dzwoniący czeka 90 s (ponad 60 s)"
    )
    on_break = alarms["agent_on_break"]
    assert (on_break.kind, on_break.subject) == ("agent_no_answer", "ola")
    assert alarm_text(on_break.code, on_break.params, translator("pl")).startswith("konsultant ola nie odebrał")
    assert alarms["acd"].text == "queue cardio: closed by hand"
    # a code this ccctl has no words for (a newer one wrote it) still shows what it carries
    assert alarm_text("pager_down", {"pager": "7"}, translator("zh")) == "pager_down: pager 7"
