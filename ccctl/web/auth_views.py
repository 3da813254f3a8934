"""Log in, log out and the language switch: the only pages a visitor reaches without a session.

Logins are throttled per user name and per address (stored in the database, so restarts do not reset them).
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from ccctl.web.accounts import LANGUAGES, log_in, login_refused, set_language
from ccctl.web.context import HOME_BY_ROLE, client_address, web

log = logging.getLogger("ccctl.web")
auth = Blueprint("auth", __name__)


@auth.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", error="")
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
    csrf = session.get("csrf")
    session.clear()  # a fresh session at login: no fixation of an earlier one
    session.update(uid=user.id, csrf=csrf)
    log.info("web login: %s (%s) from %s", user.name, user.role, address)
    return redirect(url_for(HOME_BY_ROLE[user.role]))


@auth.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


@auth.post("/language")
def language():
    chosen = request.form.get("language", "en")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        if g.user is not None:
            with web().transaction() as db:
                set_language(db, g.user.id, chosen)
    back = request.form.get("back", "")
    # only a path of this site: never send the browser elsewhere
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("home"))
