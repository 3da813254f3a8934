"""CallStore: records saved from greenlets come back whole, in UTC, through the batching writer."""

import logging
import socket
from datetime import UTC, datetime

import gevent
import pytest
from db_fixtures import MONDAY_8AM_UTC, call_record
from gevent import monkey
from sqlalchemy import Engine, event, func, select

from ccctl.callflow import HANDED_OVER, IN_PROGRESS, INTERRUPTED
from ccctl.records.call_store import CallStore, CallStoreError
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call


def stored_calls(url: str) -> list[Call]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(Call).order_by(Call.started_at)).all()
    finally:
        engine.dispose()


def count_calls(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Call)).scalar()
    finally:
        engine.dispose()


def test_saved_record_comes_back_whole_in_utc(db_url):
    store = CallStore(db_url)
    store.save(call_record(1, path=["answer", "welcome", "menu:2", "queue:cardiology"], patient_id=None))
    store.close()
    (call,) = stored_calls(db_url)
    assert call.uuid == "00000001-0000-4000-8000-000000000000"
    assert call.hotline == "main" and call.caller_number == "+33612340001" and call.destination == "7000"
    assert call.started_at == datetime(2026, 11, 23, 8, 1, tzinfo=UTC)
    assert call.answered_at == datetime(2026, 11, 23, 8, 1, 1, tzinfo=UTC)
    assert call.ended_at == datetime(2026, 11, 23, 8, 2, 5, 500000, tzinfo=UTC)
    assert call.disposition == "completed" and call.hangup_cause == "NORMAL_CLEARING"
    assert call.path == ["answer", "welcome", "menu:2", "queue:cardiology"]
    assert call.patient_id is None and call.error == ""


def test_unanswered_failed_call_keeps_its_empty_times_and_error(db_url):
    store = CallStore(db_url)
    store.save(call_record(2, answered_at=None, ended_at=None, disposition="failed", error="flow main.yaml missing"))
    store.close()
    (call,) = stored_calls(db_url)
    assert (call.answered_at, call.ended_at) == (None, None)
    assert (call.disposition, call.error) == ("failed", "flow main.yaml missing")


def test_microseconds_survive(db_url):
    store = CallStore(db_url)
    store.save(call_record(3, at=MONDAY_8AM_UTC + 0.123456))
    store.close()
    (call,) = stored_calls(db_url)
    assert call.started_at.microsecond == 123456


def test_save_only_queues_and_flush_writes(sqlite_url):
    store = CallStore(sqlite_url)
    store.save_many([call_record(n) for n in range(5)])
    # no greenlet switch has happened since save_many: nothing can have been written
    assert count_calls(sqlite_url) == 0 and store.waiting == 5
    store.flush()
    assert count_calls(sqlite_url) == 5 and store.waiting == 0
    store.close()


def test_close_writes_everything_queued_even_below_a_batch(db_url):
    # a long batch timer: only close() can have made the writer commit
    store = CallStore(db_url, batch_rows=10_000, batch_seconds=3600)
    store.save_many([call_record(n) for n in range(7)])
    store.close()
    assert count_calls(db_url) == 7


def test_thousand_records_from_many_greenlets_all_present(db_url):
    store = CallStore(db_url)

    def one_call(n: int) -> None:
        gevent.sleep(0)  # interleave like call greenlets ending at the same time
        store.save(call_record(n))

    gevent.joinall([gevent.spawn(one_call, n) for n in range(1000)], raise_error=True)
    store.close()
    calls = stored_calls(db_url)
    assert len(calls) == 1000
    assert {call.uuid for call in calls} == {call_record(n).uuid for n in range(1000)}


def test_inserts_run_outside_the_event_loop_thread(sqlite_url):
    native_thread_id = monkey.get_original("threading", "get_ident")
    threads = set()

    def remember_thread(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO calls"):
            threads.add(native_thread_id())

    event.listen(Engine, "before_cursor_execute", remember_thread)
    try:
        store = CallStore(sqlite_url)
        store.save_many([call_record(n) for n in range(50)])
        store.close()
    finally:
        event.remove(Engine, "before_cursor_execute", remember_thread)
    # sqlite3 is C code that blocks: it must run in gevent's threadpool, not in the loop's thread
    assert threads and native_thread_id() not in threads


def test_duplicate_uuid_is_skipped_without_losing_the_batch(db_url, caplog):
    store = CallStore(db_url)
    store.save(call_record(1))
    store.flush()
    with caplog.at_level(logging.ERROR, logger="ccctl.records.call_store"):
        store.save_many([call_record(2), call_record(1, hotline="other"), call_record(3)])
        store.close()
    assert [call.uuid[:8] for call in stored_calls(db_url)] == ["00000001", "00000002", "00000003"]
    assert [call.hotline for call in stored_calls(db_url)] == ["main"] * 3
    (message,) = [record.getMessage() for record in caplog.records]
    assert message.startswith("call record 00000001-0000-4000-8000-000000000000 not stored: ")
    assert "+3361234" not in message  # no caller number in logs


def test_save_after_close_is_refused(sqlite_url):
    store = CallStore(sqlite_url)
    store.close()
    with pytest.raises(CallStoreError, match="is closed"):
        store.save(call_record(1))


def test_unreachable_database_keeps_records_and_flush_times_out(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    store = CallStore(f"postgresql://cc:s3cret@127.0.0.1:{port}/cc")
    store.save_many([call_record(1), call_record(2)])
    with pytest.raises(CallStoreError) as err:
        store.flush(timeout=0.3)
    text = str(err.value)
    assert text.startswith(f"2 call records not written to postgresql://cc:***@127.0.0.1:{port}/cc within 0.3s (")
    assert "s3cret" not in text and store.waiting == 2
    assert all("+3361234" not in record.getMessage() for record in caplog.records)
    with pytest.raises(CallStoreError, match="^2 call records not written"):
        store.close(timeout=0)


def test_records_wait_for_the_schema_then_go_in(empty_sqlite_url):
    from ccctl.records.migrate import upgrade

    upgrade(empty_sqlite_url, "base")  # the file exists, the calls table does not
    store = CallStore(empty_sqlite_url)
    store.save(call_record(1))
    with pytest.raises(CallStoreError, match="no such table: calls"):
        store.flush(timeout=0.1)
    upgrade(empty_sqlite_url)
    store.close()
    assert count_calls(empty_sqlite_url) == 1


def test_a_call_handed_over_at_a_stop_and_finished_by_the_next_controller_is_one_row(db_url, caplog):
    # the stopping controller lets the queued caller go (the switch parks them) ...
    store = CallStore(db_url)
    store.save(call_record(1, disposition=HANDED_OVER, hangup_cause="", path=["hello", "to_agent"]))
    store.close()
    (call,) = stored_calls(db_url)
    assert (call.disposition, call.ended_at) == (HANDED_OVER, None)
    # ... and the one that took them back writes the call's end: it completes that row
    taken_back = MONDAY_8AM_UTC + 60 + 30
    store = CallStore(db_url)
    with caplog.at_level(logging.ERROR, logger="ccctl.records.call_store"):
        store.save_many(
            [
                call_record(2),
                call_record(1, at=taken_back, answered_at=None, path=["readopted", "queue:answered"], patient_id=None),
            ]
        )
        store.close()
    assert caplog.records == []
    first, second = stored_calls(db_url)
    assert first.uuid.startswith("00000001") and second.uuid.startswith("00000002")
    assert first.started_at == datetime(2026, 11, 23, 8, 1, tzinfo=UTC)  # when the patient called
    assert first.answered_at == datetime(2026, 11, 23, 8, 1, 1, tzinfo=UTC)
    assert first.ended_at == datetime.fromtimestamp(taken_back + 65.5, tz=UTC)
    assert (first.disposition, first.hangup_cause) == ("completed", "NORMAL_CLEARING")
    assert first.path == ["hello", "to_agent", "readopted", "queue:answered"]


def test_the_handed_over_part_arriving_last_still_comes_first_in_the_row(sqlite_url):
    store = CallStore(sqlite_url)
    store.save(call_record(1, at=MONDAY_8AM_UTC + 90, answered_at=None, path=["readopted", "queue:answered"]))
    store.flush()
    store.save(call_record(1, disposition=HANDED_OVER, path=["hello", "to_agent"]))
    store.close()
    (call,) = stored_calls(sqlite_url)
    assert call.disposition == "completed" and call.started_at == datetime(2026, 11, 23, 8, 1, tzinfo=UTC)
    assert call.path == ["hello", "to_agent", "readopted", "queue:answered"]


def test_a_second_final_record_of_one_call_is_still_refused(sqlite_url, caplog):
    store = CallStore(sqlite_url)
    store.save(call_record(1))
    store.flush()
    with caplog.at_level(logging.ERROR, logger="ccctl.records.call_store"):
        store.save(call_record(1, disposition="failed", error="interrupted"))
        store.close()
    (call,) = stored_calls(sqlite_url)
    assert call.disposition == "completed"
    assert "not stored" in caplog.records[0].getMessage()


def _started(n: int, **changes):
    return call_record(n, answered_at=None, ended_at=None, disposition=IN_PROGRESS, hangup_cause="", path=[], **changes)


def test_a_call_is_a_row_from_its_arrival_and_its_end_completes_that_row(db_url):
    store = CallStore(db_url)
    store.save_start(_started(1))
    store.flush()
    (call,) = stored_calls(db_url)
    assert (call.disposition, call.ended_at, call.caller_number) == (IN_PROGRESS, None, "+33612340001")
    store.save(call_record(1, path=["hello", "menu:1"]))
    store.close()
    (call,) = stored_calls(db_url)
    assert (call.disposition, call.hangup_cause, call.path) == ("completed", "NORMAL_CLEARING", ["hello", "menu:1"])
    assert call.ended_at == datetime(2026, 11, 23, 8, 2, 5, 500000, tzinfo=UTC)


def test_a_short_call_whose_start_is_still_queued_is_written_once(sqlite_url):
    engine_inserts = []
    store = CallStore(sqlite_url)
    event.listen(store._engine, "before_cursor_execute", lambda *args: engine_inserts.append(args[2].split()[0]))
    store.save_start(_started(1))
    store.save(call_record(1))
    store.close()
    (call,) = stored_calls(sqlite_url)
    assert call.disposition == "completed" and engine_inserts == ["INSERT"]


def test_a_controller_killed_mid_call_leaves_the_in_progress_row(sqlite_url):
    store = CallStore(sqlite_url)
    store.save_many([])
    store.save_start(_started(1))
    store.save_start(_started(2))
    store.flush()  # then the process dies: no end record ever comes
    assert [(c.uuid[:8], c.disposition) for c in stored_calls(sqlite_url)] == [
        ("00000001", IN_PROGRESS),
        ("00000002", IN_PROGRESS),
    ]


def test_an_end_record_completes_a_row_settled_as_interrupted_meanwhile(sqlite_url, caplog):
    store = CallStore(sqlite_url)
    store.save_start(_started(1))
    store.flush()
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:  # another controller's sweep found no channel for it
        connection.execute(Call.__table__.update().values(disposition=INTERRUPTED))
    engine.dispose()
    with caplog.at_level(logging.ERROR, logger="ccctl.records.call_store"):
        store.save(call_record(1, disposition="abandoned"))
        store.close()
    assert caplog.records == []
    (call,) = stored_calls(sqlite_url)
    assert call.disposition == "abandoned"


def test_ends_of_many_running_calls_complete_their_rows_in_one_batch(db_url):
    store = CallStore(db_url)
    for n in range(1, 301):
        store.save_start(_started(n))
    store.flush()
    store.save_many([call_record(n, disposition="abandoned" if n % 3 == 0 else "completed") for n in range(1, 301)])
    store.close()
    calls = stored_calls(db_url)
    assert len(calls) == 300
    assert sum(c.disposition == "abandoned" for c in calls) == 100
    assert all(c.ended_at is not None for c in calls)
