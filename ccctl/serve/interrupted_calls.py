"""Calls whose controller died mid-call: their in-progress rows are settled once no switch knows the channel.

Every call gets a row when it reaches a controller (CallStore.save_start). A controller killed before the
end leaves that row in progress; this sweep, run by every `ccctl serve`, asks the switch whether the
channel still exists and, when it does not, records the call as interrupted. A controller that is alive
and only late writing its end still completes the row (interrupted is an open disposition).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import gevent
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ccctl.callflow import IN_PROGRESS, INTERRUPTED
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call

log = logging.getLogger("ccctl.serve")

SWEEP_SECONDS = 30.0
# a row younger than this may belong to a call whose controller is only busy: leave it a while
MIN_AGE_SECONDS = 10.0
ROWS_PER_SWEEP = 500
INTERRUPTED_ERROR = "the controller stopped before the call ended (its outcome is unknown)"


def open_calls(session: Session, older_than: datetime) -> list[str]:
    query = (
        select(Call.uuid)
        .where(Call.disposition == IN_PROGRESS, Call.started_at < older_than)
        .order_by(Call.started_at)
        .limit(ROWS_PER_SWEEP)
    )
    return list(session.scalars(query))


def settle(session: Session, uuids: list[str], now: datetime) -> int:
    query = (
        update(Call)
        .where(Call.uuid.in_(uuids), Call.disposition == IN_PROGRESS)
        .values(disposition=INTERRUPTED, ended_at=now, error=INTERRUPTED_ERROR)
    )
    return session.execute(query).rowcount


def sweep(engine, switches, running: Callable[[], set[str]], older_than: datetime, now: datetime) -> int:
    """One pass over the in-progress rows started before `older_than`: those of calls this controller does
    not run and no switch knows are settled as interrupted; returns how many. A call that may be on a node
    not connected now (ccctl.esl.nodes.SwitchNodes.exists says None) waits until that node is back."""
    with Session(engine) as session:
        candidates = open_calls(session, older_than)
    mine = running()
    gone = [uuid for uuid in candidates if uuid not in mine and switches.exists(uuid) is False]
    if not gone:
        return 0
    with Session(engine) as session:
        settled = settle(session, gone, now)
        session.commit()
    if settled:
        log.warning("%d call(s) recorded as interrupted: their controller stopped before the call ended", settled)
    return settled


def settle_interrupted_forever(controller, every: float = SWEEP_SECONDS) -> None:
    """Run by `ccctl serve`: a pass once the switch is connected, then every `every` seconds.

    The first pass takes every row from before this process started (none of them can be its own calls);
    later passes leave rows younger than MIN_AGE_SECONDS alone, as their controller may only be busy.
    """
    engine = make_engine(controller.settings.database.url)
    client, switches = controller.inbound, controller.nodes
    started = datetime.now(UTC)
    first = True
    while True:
        try:
            if client.wait_connected(timeout=every):
                now = datetime.now(UTC)
                older_than = started if first else now - timedelta(seconds=MIN_AGE_SECONDS)
                sweep(engine, switches, controller.running_call_uuids, older_than, now)
                first = False
        except Exception as exc:  # a busy database or a lost switch: the rows wait for the next pass
            log.warning("interrupted calls not settled this pass: %s", type(exc).__name__)
        gevent.sleep(every)
