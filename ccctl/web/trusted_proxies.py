"""Who the client is behind reverse proxies: X-Forwarded-For is believed only from a peer in web.trusted_proxies.

Login throttling, the SMS callback allow-list and the audit's "from" all read request.remote_addr; behind
nginx that is the proxy for everyone, unless the proxy is trusted here and its header is used instead.
Each proxy appends the address it was reached from, so the header is read from its end: hops that are
trusted proxies (a load balancer before nginx) are passed over, and the first that is not is the client.
Whatever a client wrote into the header itself lies before that and is never read; a header sent by
anyone but a trusted proxy is ignored, so a client cannot make itself look like 127.0.0.1.
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


def _address_of(hop: str) -> str | None:
    """The address of one X-Forwarded-For entry ("192.0.2.1", "2001:db8::1", with a port "[2001:db8::1]:443"
    or "192.0.2.1:443", as some balancers write it), or None when it is no address."""
    for text in (hop, hop.rsplit(":", 1)[0].strip("[]") if ":" in hop else ""):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            continue
    return None


def forwarded_client(peer: str, forwarded_for: str, networks: list[Network]) -> str:
    """The client behind a trusted peer: X-Forwarded-For from its end, passing over the trusted proxies.

    When every hop is a trusted proxy, the first of them made the request; a hop that is no address
    stops the walk at the proxy that passed it on.
    """
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address_of(hop.strip())
        if address is None:
            break
        client = address
        if not _within(address, networks):
            break
    return client


class TrustedProxies:
    """WSGI middleware, for trusted peers only: the client from X-Forwarded-For (forwarded_client), and the
    scheme from the last X-Forwarded-Proto (ProxyFix: what the proxy nearest the console says)."""

    def __init__(self, app: Callable, proxies: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_proxies(proxies)
        self.fixed = ProxyFix(app, x_for=0, x_proto=1)
        self._warned: set[str] = set()

    def __call__(self, environ: dict, start_response: Callable):
        peer = environ.get("REMOTE_ADDR", "")
        if self.networks and _within(peer, self.networks):
            environ["REMOTE_ADDR"] = forwarded_client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""), self.networks)
            return self.fixed(environ, start_response)
        if "HTTP_X_FORWARDED_FOR" in environ and peer not in self._warned and len(self._warned) < WARNED_PEERS_MAX:
            # once per peer: a proxy left out of web.trusted_proxies makes every client look alike
            self._warned.add(peer)
            log.warning("X-Forwarded-For from %s ignored: it is not in web.trusted_proxies", peer)
        return self.app(environ, start_response)
