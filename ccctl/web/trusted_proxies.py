"""Who the client is behind a reverse proxy: X-Forwarded-For is believed only from a peer in web.trusted_proxies.

Login throttling, the SMS callback allow-list and the audit's "from" all read request.remote_addr; behind
nginx that is the proxy for everyone, unless the proxy is trusted here and its header is used instead.
A header sent by anyone else is ignored, so a client cannot make itself look like 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

from ccctl.config import ConfigError

log = logging.getLogger("ccctl.web")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WARNED_PEERS_MAX = 100  # peers whose ignored header was logged: a bound, whoever sends the header


def parse_proxies(entries: Iterable[str]) -> list[Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ConfigError(f"web.trusted_proxies: {entry!r} is not an address or a network") from None
    return networks


def _within(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class TrustedProxies:
    """WSGI middleware: ProxyFix (the last X-Forwarded-For and X-Forwarded-Proto hop) for trusted peers only."""

    def __init__(self, app: Callable, proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_proxies(proxies)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self._warned: set[str] = set()

    def __call__(self, environ: dict, start_response: Callable):
        peer = environ.get("REMOTE_ADDR", "")
        if self.networks and _within(peer, self.networks):
            return self.fixed(environ, start_response)
        if "HTTP_X_FORWARDED_FOR" in environ and peer not in self._warned and len(self._warned) < WARNED_PEERS_MAX:
            # once per peer: a proxy left out of web.trusted_proxies makes every client look alike
            self._warned.add(peer)
            log.warning("X-Forwarded-For from %s ignored: it is not in web.trusted_proxies", peer)
        return self.app(environ, start_response)
