"""The call row of a caller taken back after a restart: built from the switch after a kill -9, settled
when the caller hung up while no controller held them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from db_fixtures import MONDAY_8AM_UTC, call_record
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.adoption import channel_times, first_part_from_switch, settle_record
from ccctl.callflow import HANDED_OVER
from ccctl.records.call_store import CallStore
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call

UUID = "00000001-0000-4000-8000-000000000000"
DUMP = json.dumps(
    {
        "Caller-Channel-Created-Time": str(int(MONDAY_8AM_UTC * 1_000_000)),
        "Caller-Channel-Answered-Time": str(int((MONDAY_8AM_UTC + 1) * 1_000_000)),
        "Caller-Caller-ID-Number": "0612345678",
        "Caller-Destination-Number": "7000",
        "variable_cc_hotline": "main",
    }
)


def in_session(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result
    finally:
        engine.dispose()


def rows(url: str) -> list[Call]:
    return in_session(url, lambda session: list(session.scalars(select(Call))))


def test_a_caller_whose_controller_was_killed_gets_a_row_from_the_switchs_own_times(sqlite_url):
    channel = channel_times(DUMP)
    in_session(sqlite_url, lambda session: first_part_from_switch(session, UUID, channel))
    # the controller that took the caller back writes the end: the row keeps when the patient called
    store = CallStore(sqlite_url)
    store.save(call_record(1, answered_at=None, path=["readopted", "queue:answered"]))
    store.close()
    [call] = rows(sqlite_url)
    assert call.started_at == datetime.fromtimestamp(MONDAY_8AM_UTC, tz=UTC)
    assert call.answered_at == datetime.fromtimestamp(MONDAY_8AM_UTC + 1, tz=UTC)
    assert (call.disposition, call.hotline, call.path) == ("completed", "main", ["readopted", "queue:answered"])


def test_a_row_the_stopping_controller_wrote_is_left_as_it_is(sqlite_url):
    store = CallStore(sqlite_url)
    store.save(call_record(1, at=MONDAY_8AM_UTC - 30, disposition=HANDED_OVER, path=["hello", "to_agent"]))
    store.close()
    in_session(sqlite_url, lambda session: first_part_from_switch(session, UUID, channel_times(DUMP)))
    [call] = rows(sqlite_url)
    assert call.path == ["hello", "to_agent"]


def test_an_unreadable_dump_gives_nothing_to_write():
    assert channel_times("-ERR No such channel!\n") == {}


def test_a_handed_over_caller_who_hung_up_while_parked_is_recorded_as_abandoned(sqlite_url):
    store = CallStore(sqlite_url)
    store.save_many([call_record(1, disposition=HANDED_OVER), call_record(2)])
    store.close()
    noticed = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    for number in (1, 2):
        uuid = f"{number:08d}-0000-4000-8000-000000000000"
        in_session(sqlite_url, lambda session, uuid=uuid: settle_record(session, uuid, "abandoned", noticed))
    first, second = sorted(rows(sqlite_url), key=lambda call: call.uuid)
    assert (first.disposition, first.ended_at) == ("abandoned", noticed)
    assert second.disposition == "completed"  # a call that had ended is never rewritten
