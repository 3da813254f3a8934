"""Log in, log out and the language switch: the only pages a visitor reaches without a session.

Logins are throttled per user name and per address (stored in the database, so restarts do not reset them).
A login starts a new server-side session with a new CSRF token; logout deletes it (web/sessions.py).
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from ccctl.web.accounts import LANGUAGES, log_in, login_refused, set_language
from ccctl.web.context import HOME_BY_ROLE, client_address, web

log = logging.getLogger("ccctl.web")
auth = Blueprint("auth", __name__)


@auth.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", error="", ended=getattr(session, "ended", False))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    address = client_address()
    ctx = web()
    with ctx.transaction() as db:
        if login_refused(db, name, address, ctx.limits):
            user, error = None, "login_throttled"
        else:
            user = log_in(db, name, password, address, ctx.limits)
            error = "" if user else "login_failed"
    if user is None:
        # the user name is staff data, not patient data: it helps spot guessing
        log.warning("web login refused for %r from %s (%s)", name[:64], address, error)
        status = 429 if error == "login_throttled" else 401
        return render_template("login.html", error=g.t(error)), status
    language = session.get("lang")
    session.clear()
    # a new session id and a new CSRF token at login: nothing known before the login is worth anything after
    session.renew()
    session.update(uid=user.id, csrf=secrets.token_urlsafe(32))
    if language:
        session["lang"] = language
    log.info("web login: %s (%s) from %s", user.name, user.role, address)
    return redirect(url_for(HOME_BY_ROLE[user.role]))


@auth.post("/logout")
def logout():
    # the session's row is deleted: a copy of the cookie is worth nothing from now on
    session.clear()
    if g.user is not None:
        log.info("web logout: %s from %s", g.user.name, client_address())
    return redirect(url_for("auth.login"))


def same_site_path(back: str) -> str | None:
    """`back` when it is a path of this site, else None: browsers drop tabs and newlines from a URL and read
    a backslash as a slash, so a slash, a tab and "/evil.example" would leave the site."""
    if not back.startswith("/") or any(c == "\\" or c.isspace() or not c.isprintable() for c in back):
        return None
    parts = urlsplit(back)
    if back.startswith("//") or parts.scheme or parts.netloc:
        return None
    return back


@auth.post("/language")
def language():
    chosen = request.form.get("language", "en")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        if g.user is not None:
            with web().transaction() as db:
                set_language(db, g.user.id, chosen)
    # only a path of this site: never send the browser elsewhere
    return redirect(same_site_path(request.form.get("back", "")) or url_for("home"))
