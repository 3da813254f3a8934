"""Console sessions kept in the database: the cookie holds only a random token, the table its SHA-256.

A copied cookie is worth nothing once the row is gone: logout, a new password, a new role or a disabled
user delete it (accounts.end_sessions), and it lapses after web.session_idle_minutes without a request
or web.session_max_hours after it began. Flask's `session` works as before on top of it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Request, Response, current_app, request
from flask import session as flask_session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from ccctl.records.models.base import utc_now
from ccctl.records.models.web import WebSession

log = logging.getLogger("ccctl.web")

# last_seen_at is written at most this often per session: a console page polls, every poll need not write
TOUCH_EVERY_SECONDS = 60
PURGE_EVERY_SECONDS = 300
# an open event stream (wallboard, workstation) asks this often whether its session still stands
STREAM_CHECK_SECONDS = 5.0
_serializer = TaggedJSONSerializer()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """Flask's `session` for one request: the row's data, which row, and whether to start afresh."""

    def __init__(self, data: dict | None = None, row_id: int | None = None, ended: bool = False) -> None:
        def on_update(this: ServerSession) -> None:
            this.modified = True

        super().__init__(data or {}, on_update)
        self.row_id = row_id
        self.modified = False
        self.renew_token = False
        # the cookie named a session that lapsed or was ended: the login page says so
        self.ended = ended

    def renew(self) -> None:
        """Start a new session at the next save: new token, new row; the old one is deleted (no fixation)."""
        self.renew_token = True
        self.modified = True


class DatabaseSessions(SessionInterface):
    """A Flask SessionInterface over the web_sessions table."""

    def __init__(self, engine, idle_minutes: int, max_hours: int, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.idle = timedelta(minutes=idle_minutes)
        self.lifetime = timedelta(hours=max_hours)
        # what "now" is; tests move it forward instead of waiting
        self.clock = clock
        self._purged_at = 0.0

    def _lapsed(self, row: WebSession, now: datetime) -> bool:
        return now - row.last_seen_at > self.idle or now - row.created_at > self.lifetime

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app), "")
        if not token:
            return ServerSession()
        now = self.clock()
        with Session(self.engine) as db, db.begin():
            row = db.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
            if row is None:
                return ServerSession(ended=True)
            if self._lapsed(row, now):
                db.delete(row)
                return ServerSession(ended=True)
            if (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS:
                row.last_seen_at = now
            return ServerSession(_serializer.loads(row.data), row.id)

    def is_open(self, row_id: int | None) -> bool:
        """Whether the session row still stands and has not lapsed (a long response asks; it touches nothing)."""
        if row_id is None:
            return False
        with Session(self.engine) as db:
            row = db.get(WebSession, row_id)
            return row is not None and not self._lapsed(row, self.clock())

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session.modified:
            return
        with Session(self.engine) as db, db.begin():
            if session.row_id is not None and (session.renew_token or not session):
                db.execute(delete(WebSession).where(WebSession.id == session.row_id))
                session.row_id = None
            if not session:
                response.delete_cookie(name, domain=domain, path=path)
                return
            data = _serializer.dumps(dict(session))
            if session.row_id is not None:
                row = db.get(WebSession, session.row_id)
                if row is None:
                    # ended while this request ran (logout elsewhere, new password): never revive it
                    response.delete_cookie(name, domain=domain, path=path)
                    return
                row.data, row.user_id = data, session.get("uid")
                return
            token = secrets.token_urlsafe(32)
            now = self.clock()
            db.add(WebSession(token_hash=token_hash(token), user_id=session.get("uid"), data=data,
                              created_at=now, last_seen_at=now))  # fmt: skip
            self._purge(db, now)
        response.set_cookie(
            name,
            token,
            domain=domain,
            path=path,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app) or _request_is_secure(),
            samesite=self.get_cookie_samesite(app),
        )

    def _purge(self, db: Session, now: datetime) -> None:
        """Delete lapsed rows now and then (a lapsed row is refused anyway; this keeps the table small)."""
        if time.monotonic() - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        lapsed = or_(WebSession.last_seen_at < now - self.idle, WebSession.created_at < now - self.lifetime)
        db.execute(delete(WebSession).where(lapsed))


class StreamWatch:
    """Whether the session that opened a long response (an SSE stream) still stands, asked every few seconds.

    Logout, a new password or role, a disabled user or the session's lapse end the stream at the next
    check: only the stream's own requests kept it open before, and it outlived them. The stream itself
    is not a request of the person: it does not keep the session from lapsing.
    """

    def __init__(self, sessions: SessionInterface, row_id: int | None) -> None:
        self.sessions = sessions
        self.row_id = row_id
        self._checked_at = time.monotonic()

    def still_open(self) -> bool:
        if not isinstance(self.sessions, DatabaseSessions):
            return True
        if time.monotonic() - self._checked_at < STREAM_CHECK_SECONDS:
            return True
        self._checked_at = time.monotonic()
        if self.sessions.is_open(self.row_id):
            return True
        log.info("event stream closed: its session ended")
        return False


def stream_watch() -> StreamWatch:
    """The watch of the current request's session (call it in the view, before the stream starts)."""
    row_id = flask_session.row_id if isinstance(flask_session, ServerSession) else None
    return StreamWatch(current_app.session_interface, row_id)


def _request_is_secure() -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a trusted proxy that says so)."""
    return request.is_secure
