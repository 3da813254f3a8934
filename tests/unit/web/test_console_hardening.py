"""The console's headers and redirects, and who the client is behind a trusted reverse proxy."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, console, csrf, csrf_of, log_in, seed

from ccctl.config import ConfigError, Settings
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.web import LoginAttempt
from ccctl.serve.controller import Controller
from ccctl.web.app import make_web_app
from ccctl.web.trusted_proxies import forwarded_client, parse_proxies


@pytest.fixture
def site(sqlite_url):
    seed(sqlite_url)
    app, _ = console(sqlite_url, trusted_proxies=["127.0.0.1", "10.9.0.0/24"], login_max_failures_per_address=3)
    return app, sqlite_url


def rows(url: str, model) -> list:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model)))
    finally:
        engine.dispose()


def client_from(app, peer: str):
    """A browser whose connection comes from `peer` (a proxy, or the client itself)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = peer
    return client


def test_every_page_and_api_answer_carries_the_content_security_policy(site):
    app, _ = site
    client = app.test_client()
    answers = [client.get("/login"), client.get("/contact"), client.get("/api/v1/status")]
    log_in(client, "admin")
    answers += [client.get(path) for path in ("/admin/users", "/wallboard", "/admin/audit", "/reports")]
    for answer in answers:
        assert answer.status_code == 200
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def test_no_page_has_an_inline_script_or_handler(site):
    app, _ = site
    client = app.test_client()
    pages = [client.get("/login").get_data(as_text=True)]
    log_in(client, "admin")
    pages += [client.get(p).get_data(as_text=True) for p in ("/admin/users", "/wallboard", "/admin/patients")]
    for page in pages:
        assert " onchange=" not in page and " onclick=" not in page and " style=" not in page
        # a <script> either loads a static file or holds JSON data, which never runs
        for tag in page.split("<script")[1:]:
            assert tag.lstrip().startswith(('src="/static/', 'id="words" type="application/json"', 'id="current'))


@pytest.mark.parametrize(
    "back",
    ["/\t/evil.example", "//evil.example", "/\\evil.example", "/\n/evil.example", "https://evil.example/", " /x"],
)
def test_language_switch_sends_the_browser_only_to_paths_of_this_site(site, back):
    app, _ = site
    client = app.test_client()
    answer = client.post("/language", data={"language": "pl", "back": back, "csrf_token": csrf(client)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_language_switch_goes_back_to_the_page_it_was_on(site):
    app, _ = site
    client = app.test_client()
    answer = client.post("/language", data={"language": "pl", "back": "/contact", "csrf_token": csrf(client)})
    assert answer.headers["Location"] == "/contact"


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own_address(site):
    app, url = site
    attacker = client_from(app, "127.0.0.1")
    for _ in range(3):
        page = attacker.get("/login", headers={"X-Forwarded-For": "203.0.113.66"}).get_data(as_text=True)
        attacker.post("/login", data={"name": "super", "password": "guess-guess-1", "csrf_token": csrf_of(page)},
                      headers={"X-Forwarded-For": "203.0.113.66"})  # fmt: skip
    nurse = client_from(app, "10.9.0.5")
    page = nurse.get("/login", headers={"X-Forwarded-For": "198.51.100.7"}).get_data(as_text=True)
    answer = nurse.post("/login", data={"name": "admin", "password": PASSWORD, "csrf_token": csrf_of(page)},
                        headers={"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/patients"
    addresses = {a.address for a in rows(url, LoginAttempt)}
    assert addresses == {"203.0.113.66", "198.51.100.7"}


def test_a_client_that_is_not_a_proxy_cannot_pretend_to_be_one(site):
    app, url = site
    outsider = client_from(app, "192.0.2.8")
    # the SMS callbacks admit 127.0.0.1 (Kannel's host) only
    assert outsider.get("/channels/sms/dlr", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
    log_in(outsider, "admin")
    page = outsider.get("/admin/patients").get_data(as_text=True)
    outsider.post("/admin/patients", data={"search": "kowal", "csrf_token": csrf_of(page)},
                  headers={"X-Forwarded-For": "10.9.0.1"})  # fmt: skip
    assert {e.source for e in rows(url, AuditEntry)} == {"web:192.0.2.8"}


def test_the_sms_allow_list_sees_the_client_behind_the_proxy_not_the_proxy(site):
    app, _ = site
    behind_proxy = client_from(app, "127.0.0.1")
    assert behind_proxy.get("/channels/sms/dlr", headers={"X-Forwarded-For": "203.0.113.66"}).status_code == 403
    # without the header the peer itself is the client: Kannel on the same host still gets in
    assert behind_proxy.get("/channels/sms/dlr?id=1&status=1").status_code != 403


def test_behind_two_trusted_proxies_the_client_is_the_hop_before_them_whatever_it_forged(site):
    app, url = site
    # the client wrote "127.0.0.1" itself; the balancer (10.9.0.7) appended the client, nginx the balancer
    chain = {"X-Forwarded-For": "127.0.0.1, 203.0.113.66, 10.9.0.7"}
    nginx = client_from(app, "127.0.0.1")
    assert nginx.get("/channels/sms/dlr?id=1&status=1", headers=chain).status_code == 403
    page = nginx.get("/login", headers=chain).get_data(as_text=True)
    nginx.post("/login", data={"name": "admin", "password": PASSWORD, "csrf_token": csrf_of(page)}, headers=chain)
    page = nginx.get("/admin/patients", headers=chain).get_data(as_text=True)
    nginx.post("/admin/patients", data={"search": "kowal", "csrf_token": csrf_of(page)}, headers=chain)
    assert {a.address for a in rows(url, LoginAttempt)} == {"203.0.113.66"}
    assert {e.source for e in rows(url, AuditEntry)} == {"web:203.0.113.66"}


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("", "10.9.0.7"),  # the proxy itself asked
        ("203.0.113.66", "203.0.113.66"),
        ("198.51.100.1, 203.0.113.66, 10.9.0.7", "203.0.113.66"),
        ("203.0.113.66,10.9.0.7,127.0.0.1", "203.0.113.66"),
        ("10.9.0.8, 10.9.0.7", "10.9.0.8"),  # only proxies: the first made the request
        ("[2001:db8::5]:443, 10.9.0.7:8443", "2001:db8::5"),  # a balancer that writes ports
        ("203.0.113.66, not-an-address, 10.9.0.7", "10.9.0.7"),  # stops at the proxy that passed it on
    ],
)
def test_the_client_is_read_from_the_end_of_the_header_past_the_trusted_proxies(forwarded_for, client):
    networks = parse_proxies(["127.0.0.1", "10.9.0.0/24"])
    assert forwarded_client("10.9.0.7", forwarded_for, networks) == client


def test_a_wrong_trusted_proxy_is_one_line_naming_the_setting(sqlite_url):
    settings = Settings()
    settings.web.trusted_proxies = ["10.0.0.0/33"]
    settings.database.url = sqlite_url
    with pytest.raises(ConfigError, match=r"^web.trusted_proxies: '10.0.0.0/33' is not an address or a network$"):
        make_web_app(Controller(settings, connect_inbound=False), settings)


def test_the_cookie_is_secure_when_the_trusted_proxy_says_the_browser_used_https(site):
    app, _ = site
    over_tls = client_from(app, "127.0.0.1")
    answer = over_tls.get("/login", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    assert "; Secure" in answer.headers["Set-Cookie"]
    plain = client_from(app, "192.0.2.8").get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" not in plain.headers["Set-Cookie"]
