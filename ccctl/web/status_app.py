"""The status endpoint of `ccctl serve`: GET /api/v1/status (JSON) and a placeholder wallboard at /.

A bare WSGI app served by gevent.pywsgi until the Flask web app (wallboard issue) replaces it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

log = logging.getLogger("ccctl.web")

StatusSource = Callable[[], dict]

WALLBOARD_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ccctl status</title>
<style>
 body { font-family: sans-serif; margin: 2em; background: #f6f7f9; color: #222; }
 .tiles { display: flex; flex-wrap: wrap; gap: 1em; }
 .tile { background: #fff; border-radius: 6px; padding: 1em 1.5em; min-width: 8em; box-shadow: 0 1px 3px #0002; }
 .tile b { display: block; font-size: 2.2em; }
 #error { color: #b00; }
</style>
</head>
<body>
<h1>ccctl</h1>
<p id="error"></p>
<div class="tiles">
 <div class="tile"><b id="active">-</b>active calls</div>
 <div class="tile"><b id="completed">-</b>completed</div>
 <div class="tile"><b id="abandoned">-</b>abandoned</div>
 <div class="tile"><b id="failed">-</b>failed</div>
 <div class="tile"><b id="total">-</b>total</div>
 <div class="tile"><b id="cps">-</b>calls/s (10 s)</div>
 <div class="tile"><b id="greenlets">-</b>greenlets</div>
 <div class="tile"><b id="inbound">-</b>inbound ESL</div>
</div>
<p>outbound ESL on <span id="outbound">-</span>, up <span id="uptime">-</span> s, version <span id="version">-</span></p>
<script>
function show(id, value) { document.getElementById(id).textContent = value; }
async function poll() {
  try {
    const r = await fetch("/api/v1/status");
    const s = await r.json();
    for (const k of ["active", "completed", "abandoned", "failed", "total"]) show(k, s.calls[k]);
    show("cps", s.cps.toFixed(1));
    show("greenlets", s.greenlets);
    show("inbound", s.esl.inbound.status);
    show("outbound", s.esl.outbound.listening);
    show("uptime", Math.round(s.uptime));
    show("version", s.version);
    show("error", "");
  } catch (e) {
    show("error", "status unavailable: " + e);
  }
}
poll();
setInterval(poll, 1000);
</script>
</body>
</html>
"""


def make_status_app(status: StatusSource) -> Callable:
    """A WSGI app answering /api/v1/status from status() and / with the placeholder wallboard."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if method not in ("GET", "HEAD"):
            return _reply(start_response, "405 Method Not Allowed", "text/plain", b"GET only\n")
        if path == "/api/v1/status":
            try:
                body = json.dumps(status()).encode()
            except Exception:
                log.exception("status could not be built")
                return _reply(start_response, "500 Internal Server Error", "application/json", b'{"error":"status"}')
            return _reply(start_response, "200 OK", "application/json", body)
        if path == "/":
            return _reply(start_response, "200 OK", "text/html; charset=utf-8", WALLBOARD_HTML.encode())
        return _reply(start_response, "404 Not Found", "text/plain", f"no page at {path}\n".encode())

    return app


def _reply(start_response: Callable, status: str, ctype: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
    return [body]
