"""The Flask app of `ccctl serve`: sessions (web/sessions.py), CSRF, the security headers, the trusted
proxies, languages, and the blueprints of every page and API.

make_web_app(controller, settings) builds it; gevent.pywsgi serves it inside the controller process.
It sits on top: app -> blueprints -> views -> context (what the views share).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, redirect, render_template, request, session, url_for

from ccctl.config import Settings
from ccctl.records.database import make_engine
from ccctl.web.accounts import LoginLimits, user_by_id
from ccctl.web.alarm_board import AlarmBoard
from ccctl.web.alarm_notify import AlarmNotifier, GatewayWatch
from ccctl.web.blueprints import all_blueprints
from ccctl.web.context import HOME_BY_ROLE, WebContext, client_address, wants_json, web
from ccctl.web.screen_pops import ScreenPops
from ccctl.web.sessions import DatabaseSessions
from ccctl.web.trusted_proxies import TrustedProxies
from ccctl.web.words import LANGUAGE_NAMES, translator

log = logging.getLogger("ccctl.web")

SECRET_FILE = Path("var/web-secret-key")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# APIs that take a bearer token (or the chat's token header) and never a cookie: a cross-site request has no
# credential to ride on
CSRF_EXEMPT_BLUEPRINTS = ("fhir", "chat")
# scripts and styles from static/ only: no inline script or handler runs, whatever a page shows
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def secret_key(settings: Settings, path: Path | None = None) -> str:
    """web.secret_key, or a random key generated once into var/ (Flask's SECRET_KEY)."""
    if settings.web.secret_key:
        return settings.web.secret_key
    path = path or SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # created owner-only from the start: whatever Flask signs with it stays ours
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(key)
    return key


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _load_user() -> None:
    g.user = None
    user_id = session.get("uid")
    if user_id is not None:
        with web().transaction() as db:
            g.user = user_by_id(db, user_id)
        if g.user is None:
            session.pop("uid", None)
    g.t = translator(g.user.language if g.user else session.get("lang", "en"))


def _check_csrf():
    if request.method not in STATE_CHANGING or request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
        return None
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(sent, expected):
        log.warning(
            "refused %s %s from %s: CSRF token missing or wrong", request.method, request.path, client_address()
        )
        if wants_json():
            return jsonify(error="CSRF token missing or wrong (send the X-CSRF-Token header)"), 403
        return "CSRF token missing or wrong: reload the page and try again.\n", 403, {"Content-Type": "text/plain"}
    return None


def _forbidden(_error):
    if wants_json():
        return jsonify(error="forbidden"), 403
    return render_template("message.html", message=g.t("forbidden")), 403


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def make_web_app(controller: Any, settings: Settings) -> Flask:
    """The WSGI app: pages, /api/v1/*, SSE streams; the ACD's offers feed the agents' screen pops."""
    app = Flask("ccctl.web", template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="ccctl_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=settings.uploads.max_bytes + 1_000_000,  # a patient's document and the form around it
    )
    engine = make_engine(settings.database.url)
    app.session_interface = DatabaseSessions(engine, settings.web.session_idle_minutes, settings.web.session_max_hours)
    app.wsgi_app = TrustedProxies(app.wsgi_app, settings.web.trusted_proxies)
    ctx = WebContext(
        controller=controller,
        settings=settings,
        engine=engine,
        screen_pops=ScreenPops(engine, settings.web.agent_recent_hours),
        alarms=AlarmBoard(
            settings.web.alarms,
            notify=AlarmNotifier(settings).started,
            gateways=GatewayWatch(settings, lambda: controller.inbound).current,
        ),
        limits=LoginLimits(
            settings.web.login_max_failures,
            settings.web.login_max_failures_per_address,
            settings.web.login_window_seconds,
        ),
    )
    app.extensions["ccctl"] = ctx
    ctx.listen_to_acd()
    app.before_request(ctx.listen_to_acd)
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.after_request(_security_headers)
    app.register_error_handler(403, _forbidden)
    app.jinja_env.globals.update(csrf_token=csrf_token, language_names=LANGUAGE_NAMES)

    @app.context_processor
    def _template_names() -> dict:
        return {"t": g.t, "user": g.user}

    @app.get("/")
    def home():
        if g.user is None:
            return redirect(url_for("auth.login"))
        return redirect(url_for(HOME_BY_ROLE[g.user.role]))

    for blueprint in all_blueprints():
        app.register_blueprint(blueprint)
    return app
