"""The console behind real reverse-proxy hops on loopback: each client keeps its own address.

A proxy is a small gevent forwarder that appends the client's address to X-Forwarded-For, as nginx's
$proxy_add_x_forwarded_for does. Clients connect from 127.0.0.2 (someone guessing passwords) and 127.0.0.3
(a nurse); the proxy nearest the console and Kannel are on 127.0.0.1, a load balancer before that proxy
reaches it from 127.0.0.4.
"""

from __future__ import annotations

import dataclasses
import http.client
import logging
import re
from http.cookies import SimpleCookie

import pytest
from emulated_site import site_settings
from gevent.pywsgi import WSGIServer

from ccctl.serve.controller import Controller, welcome_for_every_hotline
from ccctl.web import user_commands

GUESSER, NURSE, BALANCER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
PASSWORD = "correct horse 1"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class Forwarder:
    """A reverse proxy in front of the console: one upstream request per request, X-Forwarded-For appended."""

    def __init__(self, upstream: tuple[str, int], source: str = "127.0.0.1") -> None:
        self.upstream, self.source = upstream, source
        self.server = WSGIServer(("127.0.0.1", 0), self.forward, log=None)

    def forward(self, environ, start_response):
        headers = {
            name[5:].replace("_", "-").title(): value for name, value in environ.items() if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        seen = headers.pop("X-Forwarded-For", "")
        headers["X-Forwarded-For"] = f"{seen}, {environ['REMOTE_ADDR']}" if seen else environ["REMOTE_ADDR"]
        headers["X-Forwarded-Proto"] = "http"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        path = environ["PATH_INFO"] + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        connection = http.client.HTTPConnection(*self.upstream, timeout=10, source_address=(self.source, 0))
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        start_response(f"{answer.status} {answer.reason}", kept)
        return [data]

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address


class Browser:
    """A client on its own loopback address, keeping the console's session cookie."""

    def __init__(self, server: tuple[str, int], source: str) -> None:
        self.server, self.source, self.cookie = server, source, ""

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(*self.server, timeout=10, source_address=(self.source, 0))
        sent = dict(headers or {})
        if self.cookie:
            sent["Cookie"] = f"ccctl_session={self.cookie}"
        body = None
        if form is not None:
            body = "&".join(f"{k}={v}" for k, v in form.items()).replace(" ", "+")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            text = answer.read().decode()
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            morsel = SimpleCookie(header).get("ccctl_session")
            if morsel is not None:
                self.cookie = morsel.value
        return answer.status, answer.headers, text

    def log_in(self, name: str, password: str) -> tuple[int, str]:
        _, _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        status, headers, text = self.request(
            "POST", "/login", {"name": name, "password": password, "csrf_token": token}
        )
        return status, headers.get("Location") or text


def running_console(sqlite_url, tmp_path, trusted_proxies: list[str]) -> Controller:
    user_commands.add(sqlite_url, "admin", "admin", PASSWORD)
    user_commands.add(sqlite_url, "super", "supervisor", PASSWORD)
    settings = site_settings(sqlite_url, tmp_path)
    esl = dataclasses.replace(settings.esl, inbound_port=1, reconnect_seconds=5)
    web = dataclasses.replace(settings.web, trusted_proxies=trusted_proxies, login_max_failures_per_address=3)
    controller = Controller(
        dataclasses.replace(settings, esl=esl, web=web),
        app_factory=welcome_for_every_hotline,
        record_sink=lambda r: None,
    )
    controller.start()
    return controller


@pytest.fixture
def behind_proxy(request, sqlite_url, tmp_path):
    controller = running_console(sqlite_url, tmp_path, request.param)
    proxy = Forwarder(controller.web_address)
    proxy.server.start()
    try:
        yield controller, proxy
    finally:
        proxy.server.stop(timeout=1)
        controller.stop(grace=1)


@pytest.mark.parametrize("behind_proxy", [["127.0.0.1", "::1"]], indirect=True)
def test_one_guesser_behind_the_proxy_does_not_lock_out_the_staff(behind_proxy):
    controller, proxy = behind_proxy
    guesser, nurse = Browser(proxy.address, GUESSER), Browser(proxy.address, NURSE)
    for n in range(3):
        assert guesser.log_in("super", f"guess-{n}-guess")[0] == 401
    status, page = guesser.log_in("admin", PASSWORD)
    assert status == 429 and "Too many failed logins" in page
    assert nurse.log_in("admin", PASSWORD) == (302, "/admin/patients")
    # the audit says where the nurse was, not where the proxy is
    _, _, page = nurse.request("GET", "/admin/patients")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    nurse.request("POST", "/admin/patients", {"search": "kowal", "csrf_token": token})
    _, _, audit = nurse.request("GET", "/admin/audit")
    assert f"<td>web:{NURSE}</td>" in audit and "<td>web:127.0.0.1</td>" not in audit


@pytest.mark.parametrize("behind_proxy", [["127.0.0.1"]], indirect=True)
def test_the_sms_allow_list_admits_kannel_and_not_clients_of_the_proxy(behind_proxy):
    controller, proxy = behind_proxy
    assert Browser(proxy.address, GUESSER).request("GET", "/channels/sms/dlr?id=1&status=1")[0] == 403
    # a client reaching the console directly cannot claim the proxy's or Kannel's address
    spoofed = Browser(controller.web_address, GUESSER).request(
        "GET", "/channels/sms/dlr?id=1&status=1", headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert spoofed[0] == 403
    # Kannel on the console's host, no proxy in between
    assert Browser(controller.web_address, "127.0.0.1").request("GET", "/channels/sms/dlr?id=1&status=1")[0] != 403


@pytest.mark.parametrize("behind_proxy", [[]], indirect=True)
def test_without_trusted_proxies_the_header_is_ignored_and_the_log_says_so(behind_proxy, caplog):
    controller, proxy = behind_proxy
    guesser, nurse = Browser(proxy.address, GUESSER), Browser(proxy.address, NURSE)
    with caplog.at_level(logging.WARNING, logger="ccctl.web"):
        for n in range(3):
            guesser.log_in("super", f"guess-{n}-guess")
        # every client is the proxy: the nurse is refused with the guesser
        assert nurse.log_in("admin", PASSWORD)[0] == 429
    assert "X-Forwarded-For from 127.0.0.1 ignored: it is not in web.trusted_proxies" in caplog.text


@pytest.fixture
def behind_two_proxies(sqlite_url, tmp_path):
    """A load balancer, then the proxy, then the console; both proxies in web.trusted_proxies."""
    controller = running_console(sqlite_url, tmp_path, ["127.0.0.1", BALANCER])
    proxy = Forwarder(controller.web_address)
    proxy.server.start()
    balancer = Forwarder(proxy.address, source=BALANCER)
    balancer.server.start()
    try:
        yield controller, balancer
    finally:
        balancer.server.stop(timeout=1)
        proxy.server.stop(timeout=1)
        controller.stop(grace=1)


def test_behind_two_proxies_a_guesser_forging_the_header_locks_out_only_itself(behind_two_proxies):
    controller, balancer = behind_two_proxies
    guesser, nurse = Browser(balancer.address, GUESSER), Browser(balancer.address, NURSE)
    forged = {"X-Forwarded-For": NURSE}  # the guesser claims the nurse's address, to lock her out
    for n in range(3):
        _, _, page = guesser.request("GET", "/login", headers=forged)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        form = {"name": "super", "password": f"guess-{n}-guess", "csrf_token": token}
        assert guesser.request("POST", "/login", form, headers=forged)[0] == 401
    assert guesser.log_in("admin", PASSWORD)[0] == 429
    assert nurse.log_in("admin", PASSWORD) == (302, "/admin/patients")
    _, _, page = nurse.request("GET", "/admin/patients")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    nurse.request("POST", "/admin/patients", {"search": "kowal", "csrf_token": token})
    _, _, audit = nurse.request("GET", "/admin/audit")
    assert f"<td>web:{NURSE}</td>" in audit
    assert "<td>web:127.0.0.1</td>" not in audit and f"<td>web:{BALANCER}</td>" not in audit
    # nor can a client of the balancer pass for Kannel on the console's host
    spoofed = Browser(balancer.address, GUESSER).request(
        "GET", "/channels/sms/dlr?id=1&status=1", headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert spoofed[0] == 403
