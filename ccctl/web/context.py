"""What every page and API view shares: the WebContext behind web(), who is asking, and which roles get in.

It sits below the views and app.py sits above them, so a view imports it and nothing imports a view back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Protocol

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ccctl.config import Settings
from ccctl.web.accounts import LoginLimits
from ccctl.web.alarm_board import AlarmBoard
from ccctl.web.screen_pops import ScreenPops

HOME_BY_ROLE = {"admin": "admin.patients", "supervisor": "wallboard.page", "agent": "workstation.page"}


class ServeProcess(Protocol):
    """What the console reads of the `ccctl serve` process it runs in (ccctl.serve.controller.Controller)."""

    acd: Any  # the ACD engine, or None when the serve process runs without one
    inbound: Any  # the inbound ESL client, or None before it connects / without a switch
    stats: Any  # call counters (active, completed, abandoned, failed)

    def call_path(self, call_uuid: str) -> list[str]:
        """The IVR path so far of a call this process drives ([] for any other)."""
        ...

    def caller_number(self, call_uuid: str) -> str:
        """The number a call this process drives came from ("" for any other)."""
        ...


@dataclass
class WebContext:
    """What every request handler needs: the controller, the settings, the database, live state."""

    controller: ServeProcess
    settings: Settings
    engine: Engine
    screen_pops: ScreenPops
    alarms: AlarmBoard
    limits: LoginLimits = field(default_factory=LoginLimits)
    acd_listening: bool = False
    wallboard_cache: Any = None  # ccctl.web.wallboard's snapshot cache, shared by every viewer and the alarm watch

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            yield db

    @property
    def acd(self) -> Any:
        return self.controller.acd

    def listen_to_acd(self) -> None:
        """Register the screen pops with the ACD once it exists (the controller may start it after the web app)."""
        if not self.acd_listening and self.acd is not None:
            self.acd.add_listener(self.screen_pops.on_acd_event)
            self.acd_listening = True


def web() -> WebContext:
    return current_app.extensions["ccctl"]


def client_address() -> str:
    """The client: the connection's peer, or the address a proxy in web.trusted_proxies forwarded."""
    return request.remote_addr or "unknown"


def audit_source() -> str:
    return f"web:{client_address()}"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def require_role(*roles: str) -> Callable:
    """Only a logged-in user with one of the roles gets through: others get the login page, 401 or 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if g.user is None:
                if wants_json():
                    return jsonify(error="log in first"), 401
                return redirect(url_for("auth.login"))
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate
