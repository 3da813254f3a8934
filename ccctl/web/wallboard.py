"""The supervisor's wallboard: queues, agents, live calls, FreeSWITCH link, alarms, today's calls chart.

GET /api/v1/wallboard gives one snapshot; GET /api/v1/stream sends one per second as Server-Sent Events.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import gevent
from flask import Blueprint, Flask, Response, g, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError

from ccctl.records.database import database_problem, is_outage
from ccctl.web.alarm_board import alarm_text, stored_acd_alarms
from ccctl.web.call_chart import chart_svg, counts_per_slot, local_midnight
from ccctl.web.context import WebContext, require_role, web
from ccctl.web.live_calls import for_viewer, live_calls
from ccctl.web.sessions import stream_watch

log = logging.getLogger("ccctl.web")
wallboard = Blueprint("wallboard", __name__)

STREAM_EVERY_SECONDS = 1.0
CHART_EVERY_SECONDS = 30.0
CHART_AFTER_CALLS_SECONDS = 5.0
ALARM_CHECK_SECONDS = 5.0
SNAPSHOT_REUSE_SECONDS = 0.5
WATCHERS = ("admin", "supervisor")


class _Cache:
    """One snapshot shared by every open wallboard for half a second; the chart's counts for 30 s."""

    snapshot: dict | None = None
    snapshot_at = 0.0
    chart: tuple[list[int], list[int]] | None = None
    chart_at = 0.0
    chart_ended = -1
    chart_changed_at = 0.0


def _ended_calls(ctx: WebContext) -> int:
    calls = ctx.controller.stats.calls()
    return calls["total"] - calls["active"]


def _chart_counts(ctx: WebContext, cache: _Cache) -> tuple[list[int], list[int]]:
    ended, now = _ended_calls(ctx), time.monotonic()
    if ended != cache.chart_ended:
        cache.chart_ended, cache.chart_changed_at = ended, now
    # calls ended here: re-read for a few seconds (the call store writes in batches); else every 30 s,
    # for the calls of other processes sharing the database
    fresh_calls = now - cache.chart_changed_at < CHART_AFTER_CALLS_SECONDS
    if cache.chart is None or fresh_calls or now - cache.chart_at > CHART_EVERY_SECONDS:
        today = local_midnight(datetime.now().astimezone())
        with ctx.transaction() as db:
            cache.chart = (counts_per_slot(db, today), counts_per_slot(db, today - timedelta(days=7)))
        cache.chart_at = time.monotonic()
    return cache.chart


def _acd_snapshot(ctx: WebContext) -> dict | None:
    if ctx.acd is None:
        return None
    try:
        return ctx.acd.snapshot()
    except Exception:  # the wallboard keeps showing the rest
        log.exception("ACD snapshot failed")
        return None


def build_snapshot(ctx: WebContext, cache: _Cache) -> dict:
    """Status, ACD state, alarms and chart counts as one JSON-able dict (what the wallboard draws)."""
    if cache.snapshot is not None and time.monotonic() - cache.snapshot_at < SNAPSHOT_REUSE_SECONDS:
        return cache.snapshot
    status = ctx.controller.status()
    acd = _acd_snapshot(ctx)
    stored, calls = [], []
    try:
        if acd is not None:
            with ctx.transaction() as db:
                stored = stored_acd_alarms(db)
                calls = live_calls(db, acd)
        today, last_week = _chart_counts(ctx, cache)
    except SQLAlchemyError as exc:
        # the database away: the board still draws, with its alarm and the last chart it had
        if is_outage(exc):
            status["database"] = {"status": "unreachable", "last_error": database_problem(exc)}
        today, last_week = cache.chart or ([], [])
    alarms = ctx.alarms.update(status, acd, stored)
    cache.snapshot = {
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "status": status,
        "acd": acd,
        "live_calls": calls,
        "alarms": [a.as_dict() for a in alarms],
        "chart": {"today": today, "last_week": last_week},
    }
    cache.snapshot_at = time.monotonic()
    return cache.snapshot


def _cache_of(ctx: WebContext) -> _Cache:
    if ctx.wallboard_cache is None:
        ctx.wallboard_cache = _Cache()
    return ctx.wallboard_cache


def _cache() -> _Cache:
    return _cache_of(web())


def _as_viewer_sees(snapshot: dict, role: str, t: Callable[[str], str]) -> dict:
    """The snapshot for one viewer: the live calls their role may see, each alarm's line in their language."""
    alarms = [{**a, "text": alarm_text(a["code"], a["params"], t)} for a in snapshot["alarms"]]
    return {**snapshot, "live_calls": for_viewer(snapshot["live_calls"], role), "alarms": alarms}


def _chart_labels() -> tuple[str, ...]:
    return g.t("calls_chart"), g.t("today"), g.t("last_week"), g.t("chart_hour"), g.t("chart_calls")


def watch_alarms(app: Flask, every_seconds: float = ALARM_CHECK_SECONDS) -> None:
    """Check (and so log) the alarms every few seconds, with or without an open wallboard; run in a greenlet."""
    ctx = app.extensions["ccctl"]
    while True:
        try:
            build_snapshot(ctx, _cache_of(ctx))
        except Exception:  # one bad round (database busy) must not end the watch
            log.exception("alarm check failed")
        gevent.sleep(every_seconds)


@wallboard.get("/api/v1/status")
def status():
    """Counters and ESL state (open without login, as `ccctl status` reads it; no patient data)."""
    try:
        return jsonify(web().controller.status())
    except Exception:
        log.exception("status could not be built")
        return jsonify(error="status"), 500


@wallboard.get("/api/v1/wallboard")
@require_role(*WATCHERS)
def snapshot():
    return jsonify(_as_viewer_sees(build_snapshot(web(), _cache()), g.user.role, g.t))


@wallboard.get("/api/v1/calls-chart.svg")
@require_role(*WATCHERS)
def chart():
    today, last_week = _chart_counts(web(), _cache())
    svg = chart_svg(today, last_week, _chart_labels())
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@wallboard.get("/wallboard")
@require_role(*WATCHERS)
def page():
    ctx, cache = web(), _cache()
    today, last_week = _chart_counts(ctx, cache)
    svg = chart_svg(today, last_week, _chart_labels())
    return render_template("wallboard.html", chart=svg)


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@wallboard.get("/api/v1/stream")
@require_role(*WATCHERS)
def stream():
    ctx, cache, role, t = web(), _cache(), g.user.role, g.t

    watch = stream_watch()

    def events() -> Iterator[str]:
        yield "retry: 2000\n\n"
        while watch.still_open():
            try:
                snapshot = build_snapshot(ctx, cache)
            except Exception:  # e.g. the controller is stopping: end this stream, the browser reconnects
                log.exception("wallboard snapshot failed; closing one stream")
                return
            yield sse("wallboard", _as_viewer_sees(snapshot, role, t))
            gevent.sleep(STREAM_EVERY_SECONDS)

    return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})
