"""Stores call records (ccctl.callflow.CallRecord) from `ccctl serve`'s call greenlets.

save() only queues: one writer greenlet commits the queue in batches, and the database
work itself runs in gevent's threadpool so the event loop keeps serving calls meanwhile.
One row per call, written twice: an in-progress row when the call arrives (save_start), completed
by the end record (save), so a controller killed mid-call still leaves a row for each call it held.
A call handed over at a controller's stop is completed by the record of the controller that took it
back (same uuid), so `ccctl calls list` shows its real outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import gevent
import gevent.event
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from ccctl.callflow import OPEN_DISPOSITIONS, CallRecord
from ccctl.records.database import database_problem, make_engine, safe_url
from ccctl.records.models.calls import Call

log = logging.getLogger(__name__)

BATCH_ROWS = 200  # commit as soon as this many records wait ...
BATCH_SECONDS = 0.05  # ... or when the oldest waiting record is this old
MAX_BATCH_ROWS = 1000  # one transaction at most (a backlog after an outage goes in several)
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)  # back-off while the database is unreachable


class CallStoreError(Exception):
    """Records could not be written in time, or the store is closed; str() is one line."""


def epoch_to_utc(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def call_row(record: CallRecord) -> dict:
    """The calls-table row for a record: epoch floats as UTC datetimes, the path as a JSON list.

    An open call (in progress, handed over) has not ended: its row has no end time yet.
    """
    return {
        "uuid": record.uuid,
        "hotline": record.hotline,
        "caller_number": record.caller_number,
        "destination": record.destination,
        "started_at": epoch_to_utc(record.started_at),
        "answered_at": epoch_to_utc(record.answered_at),
        "ended_at": None if record.disposition in OPEN_DISPOSITIONS else epoch_to_utc(record.ended_at),
        "disposition": record.disposition,
        "hangup_cause": record.hangup_cause,
        "path": list(record.path),
        "patient_id": record.patient_id,
        "error": record.error,
        "node": record.node,
    }


def continued_row(existing: dict, incoming: dict) -> dict | None:
    """One row for two records of the same call when one is open (in progress, handed over), else None
    (a duplicate).

    The open part came first (two open parts: the earlier start first): the call keeps its first start,
    answer and path, and takes the end, outcome and cause of the later part.
    """
    existing_open = existing["disposition"] in OPEN_DISPOSITIONS
    incoming_open = incoming["disposition"] in OPEN_DISPOSITIONS
    if not (existing_open or incoming_open):
        return None
    if existing_open and incoming_open:
        first, later = sorted((existing, incoming), key=lambda row: row["started_at"])
    else:
        first, later = (existing, incoming) if existing_open else (incoming, existing)
    answers = [row["answered_at"] for row in (first, later) if row["answered_at"] is not None]
    merged = dict(later)
    merged.update(
        started_at=min(first["started_at"], later["started_at"]),
        answered_at=min(answers) if answers else None,
        path=list(first["path"] or []) + list(later["path"] or []),
        patient_id=later["patient_id"] if later["patient_id"] is not None else first["patient_id"],
    )
    for name in ("hotline", "caller_number", "destination", "node"):
        merged[name] = first[name] or later[name]
    return merged


class CallStore:
    """Batching writer of call records.

    Durability trade-off: save() returns before the record is on disk. Records wait in
    this process's memory for up to BATCH_SECONDS (longer while the database is down:
    they are kept and retried, never dropped), so a crash or kill -9 loses what is
    queued. flush() and close() return only once everything queued before them is
    committed. A record of a call already stored completes its row when one of the two was
    handed over (continued_row); any other record the database refuses (duplicate uuid,
    unknown patient_id) is logged by uuid and skipped so it cannot block the others.

    Use it from the greenlets of one hub (ccctl serve's main thread). Batches run in
    gevent's threadpool one at a time, so the engine's pool (whose locks gevent has
    patched) is never contended across threads.
    """

    def __init__(
        self, url: str, *, batch_rows: int = BATCH_ROWS, batch_seconds: float = BATCH_SECONDS, echo: bool = False
    ) -> None:
        self.url = safe_url(url)
        self._engine = make_engine(url, echo=echo)
        self._batch_rows = batch_rows
        self._batch_seconds = batch_seconds
        self._pending: list[dict] = []
        # in-progress rows still queued, by uuid: the call's end record replaces them in place (one insert)
        self._queued_starts: dict[str, dict] = {}
        # calls whose in-progress row has gone to the database: their end record updates that row
        self._written_starts: set[str] = set()
        # end records of those calls, written after the inserts of the same batch
        self._ends: set[int] = set()  # id() of the rows in _pending that are such ends
        self._queued = 0  # rows ever queued
        self._done = 0  # rows ever committed or refused by the database
        self._wake = gevent.event.Event()
        self._progress = gevent.event.Event()
        self._writer: gevent.Greenlet | None = None
        self._closed = False
        self.last_problem = ""  # why the last batch failed ("" once a batch succeeds)

    @property
    def waiting(self) -> int:
        """Records queued and not yet committed."""
        return self._queued - self._done

    def save(self, record: CallRecord) -> None:
        """Queue one record; returns at once (no I/O)."""
        self.save_many((record,))

    def save_start(self, record: CallRecord) -> None:
        """Queue the in-progress row of a call that just arrived; its end record (save) completes it."""
        if self._closed:
            raise CallStoreError(f"call store for {self.url} is closed")
        row = call_row(record)
        self._queued_starts[row["uuid"]] = row
        self._queue([row])

    def save_many(self, records: Iterable[CallRecord]) -> None:
        """Queue several records; returns at once (no I/O)."""
        if self._closed:
            raise CallStoreError(f"call store for {self.url} is closed")
        rows = []
        for record in records:
            row = call_row(record)
            start = self._queued_starts.pop(row["uuid"], None)
            if start is not None:  # not written yet: one insert of the whole call
                start.update(continued_row(start, row) or row)
                continue
            if row["uuid"] in self._written_starts:
                self._written_starts.discard(row["uuid"])
                self._ends.add(id(row))
            rows.append(row)
        self._queue(rows)

    def _queue(self, rows: list[dict]) -> None:
        if not rows:
            return
        was_empty = not self._pending
        self._pending.extend(rows)
        self._queued += len(rows)
        if self._writer is None or self._writer.dead:
            self._writer = gevent.spawn(self._write_loop)
        if was_empty or len(self._pending) >= self._batch_rows:
            self._wake.set()

    def flush(self, timeout: float | None = None) -> None:
        """Return once every record queued so far is committed; CallStoreError after `timeout` seconds."""
        target = self._queued
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._done < target:
            self._progress.clear()
            self._wake.set()  # write now, do not wait for the batch timer
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._progress.wait(remaining) and self._done < target:
                raise CallStoreError(
                    f"{target - self._done} call records not written to {self.url} within {timeout:g}s"
                    + (f" ({self.last_problem})" if self.last_problem else "")
                )

    def close(self, timeout: float | None = 30.0) -> None:
        """Refuse new records, write all queued ones, release the connections.

        Raises CallStoreError (the records still queued are lost) if the database
        does not take them within `timeout` seconds, so shutdown cannot hang forever.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self.flush(timeout)
        finally:
            if self._writer is not None:
                self._writer.kill()
            self._engine.dispose()

    def _write_loop(self) -> None:
        failures = 0
        while True:
            if not self._pending:
                self._wake.wait()
                self._wake.clear()
                continue
            # let a batch gather unless it is already full or flush() asked
            self._wake.wait(self._batch_seconds)
            self._wake.clear()
            batch = self._pending[:MAX_BATCH_ROWS]
            del self._pending[: len(batch)]
            ends = [row for row in batch if id(row) in self._ends]
            inserts = [row for row in batch if id(row) not in self._ends]
            for row in inserts:
                if self._queued_starts.get(row["uuid"]) is row:  # from now on its end updates the written row
                    del self._queued_starts[row["uuid"]]
                    self._written_starts.add(row["uuid"])
            try:
                refused = gevent.get_hub().threadpool.apply(self._write, (inserts, ends))
            except Exception as exc:
                # unreachable, locked, schema missing (or a bug): keep the rows and try again
                self._pending[:0] = batch
                self.last_problem = database_problem(exc)
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning(
                    "%d call records not written to %s, retrying in %gs: %s",
                    len(batch),
                    self.url,
                    delay,
                    self.last_problem,
                )
                gevent.sleep(delay)
                continue
            for uuid, problem in refused:
                # only the uuid: the row's other values are patient data
                log.error("call record %s not stored: %s", uuid, problem)
            failures = 0
            self.last_problem = ""
            self._ends.difference_update(id(row) for row in ends)
            self._done += len(batch)
            self._progress.set()

    def _write(self, inserts: list[dict], ends: list[dict]) -> list[tuple[str, str]]:
        """Runs in a threadpool thread: the new rows, then the ends of calls whose row is already written.

        Returns (uuid, problem) of the refused rows; the greenlet logs them.
        """
        refused = self._insert(inserts) if inserts else []
        if ends:
            refused += self._complete(ends)
        return refused

    def _complete(self, ends: list[dict]) -> list[tuple[str, str]]:
        """End records of calls whose open row is written: merged into it, in one transaction."""
        columns = [getattr(Call, name) for name in ends[0]]
        with self._engine.begin() as connection:
            query = select(*columns).where(Call.uuid.in_([row["uuid"] for row in ends]))
            if connection.dialect.name != "sqlite":  # two controllers finishing one call: one at a time
                query = query.with_for_update()
            stored = {row["uuid"]: dict(row) for row in connection.execute(query).mappings()}
            merged = [continued_row(stored[row["uuid"]], row) if row["uuid"] in stored else None for row in ends]
            updates = [values for values in merged if values is not None]
            if updates:
                statement = update(Call).where(Call.uuid == bindparam("match_uuid"))
                connection.execute(statement, [{**values, "match_uuid": values["uuid"]} for values in updates])
        # a row settled elsewhere as closed, or gone: insert (a duplicate is refused and logged by uuid)
        missing = [row for row, values in zip(ends, merged, strict=True) if values is None]
        return self._insert(missing) if missing else []

    def _insert(self, rows: list[dict]) -> list[tuple[str, str]]:
        """One transaction, or row by row if a row is refused."""
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(Call), rows)
            return []
        except StatementError as exc:
            if not _is_refusal(exc):
                raise
        refused = []
        for row in rows:
            try:
                with self._engine.begin() as connection:
                    connection.execute(insert(Call), [row])
            except StatementError as exc:
                if not _is_refusal(exc):
                    raise
                if not self._continue(row):
                    refused.append((row["uuid"], database_problem(exc)))
        return refused

    def _continue(self, row: dict) -> bool:
        """The call's row is already there: complete it if one of the two parts was handed over."""
        columns = [getattr(Call, name) for name in row]
        try:
            with self._engine.begin() as connection:
                query = select(*columns).where(Call.uuid == row["uuid"])
                if connection.dialect.name != "sqlite":  # two controllers finishing one call: one at a time
                    query = query.with_for_update()
                stored = connection.execute(query).mappings().first()
                merged = continued_row(dict(stored), row) if stored is not None else None
                if merged is None:
                    return False
                connection.execute(update(Call).where(Call.uuid == row["uuid"]).values(merged))
            return True
        except StatementError as exc:
            if not _is_refusal(exc):
                raise
            return False


def _is_refusal(exc: StatementError) -> bool:
    """The database (or a type's bind step) refused a row's values, unlike a connection or schema problem."""
    return isinstance(exc, (IntegrityError, DataError)) or not isinstance(exc, DBAPIError)
