"""`ccctl fs render --kamailio`: the SIP front for several switches (Kamailio 5.6 configuration).

Kamailio is a stateful proxy here, never a switch: patients' calls for a hotline or fax DID are spread over
the live FreeSWITCH nodes (dispatcher, round robin, OPTIONS probes, the next node on timeout or 5xx), agents'
phones register with Kamailio, each with their own password (auth_db over the view kamailio_subscriber in
ccctl's PostgreSQL), their location kept in the same database, so a pair of Kamailio instances rendered from
one ccctl.yaml share it; a node's call to an agent extension is sent to wherever that agent registered.
Everything interpolated into kamailio.cfg is checked here first.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ccctl.config import Settings
from ccctl.deploy.fs_render import REPO_ROOT, RenderError, build_model, write_atomic

TEMPLATE_DIR = REPO_ROOT / "fs_conf" / "kamailio"
_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# a value goes into a double-quoted kamailio.cfg string: no quote, backslash or '$' (a pseudo-variable)
_CFG_STRING_UNSAFE = re.compile(r'["\\$\x00-\x1f\x7f]')
# Kamailio's database URL (postgres://user:password@host:port/database) has no escapes: none of its separators
_DB_URL_UNSAFE = re.compile(r'[@:/?#%\s"\\$\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Node:
    name: str
    host: str
    port: int

    @property
    def uri(self) -> str:
        return f"sip:{self.host}:{self.port}"


@dataclass(frozen=True)
class KamailioModel:
    listen_host: str
    listen_port: int
    nodes: list[Node]
    trunk_cidrs: list[str]
    dids: list[str]  # hotline and fax DIDs: sent to a switch
    agents_expression: str  # POSIX ERE of the agent extensions: sent to where the agent registered
    domain: str
    db_url: str  # ccctl's PostgreSQL as Kamailio writes it: agents' digests, registrations
    probe_seconds: int
    failover_ms: int
    modules_dir: str


def render_kamailio(settings: Settings, out_dir: str | os.PathLike, listen: str | None = None) -> list[str]:
    """Write kamailio.cfg and dispatcher.list into out_dir; returns the paths written.

    `listen`: this instance's address, one of sip_front.instances (default sip_front.listen)."""
    model = build_kamailio_model(settings, listen)
    if _CFG_STRING_UNSAFE.search(str(Path(out_dir).resolve())):
        raise RenderError(f"{out_dir}: Kamailio cannot take quotes, backslashes or '$' in this folder's path")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    out = Path(out_dir)
    written = []
    for name in ("kamailio.cfg", "dispatcher.list"):
        target = out / name
        text = env.get_template(name).render(
            k=model, dispatcher_list=str(out.resolve() / "dispatcher.list"), run_dir=str(out.resolve())
        )
        try:
            write_atomic(target, text)
        except OSError as exc:
            raise RenderError(f"{target}: cannot write ({exc.strerror or exc})") from None
        written.append(str(target))
    return written


def build_kamailio_model(settings: Settings, listen: str | None = None) -> KamailioModel:
    fs_model = build_model(settings)  # the switches' own checks: DIDs, extensions, passwords
    front = settings.sip_front
    host, port = _listen_address(settings, listen)
    db_url = kamailio_db_url(settings)
    nodes = _nodes(settings)
    relay = ipaddress.ip_address(host)
    if not any(relay in ipaddress.ip_network(cidr) for cidr in fs_model.trunk_cidrs):
        raise _error(
            settings,
            "freeswitch.trunk_acl",
            f"does not admit {host} (sip_front.listen): the switches would refuse the calls Kamailio relays",
        )
    for key, value, low in (("probe_seconds", front.probe_seconds, 1), ("failover_seconds", front.failover_seconds, 1)):
        if value < low:
            raise _error(settings, f"sip_front.{key}", f"must be at least {low}, got {value}")
    return KamailioModel(
        listen_host=host,
        listen_port=port,
        nodes=nodes,
        trunk_cidrs=_cidrs(settings),
        dids=[route.did for route in fs_model.hotlines] + list(settings.fax.dids),
        # FreeSWITCH's PCRE of the extensions is also a valid POSIX ERE: digits, classes and alternation only
        agents_expression=fs_model.agents.expression,
        domain=settings.freeswitch.domain,
        db_url=db_url,
        probe_seconds=front.probe_seconds,
        failover_ms=front.failover_seconds * 1000,
        modules_dir=front.modules_dir,
    )


def kamailio_db_url(settings: Settings) -> str:
    """database.url as Kamailio's db_postgres takes it; refused for SQLite, where Kamailio cannot read."""
    try:
        url = make_url(settings.database.url)
    except ArgumentError:
        raise _error(settings, "database.url", "is not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise _error(
            settings,
            "database.url",
            f"is {url.get_backend_name()}: the Kamailio front reads agents' SIP digests and registrations "
            "from PostgreSQL (docs/scale-out.md)",
        )
    if not url.host:
        raise _error(settings, "database.url", "names no host: Kamailio reaches PostgreSQL over TCP")
    for part, value in (("user", url.username), ("password", url.password), ("database", url.database)):
        if value and _DB_URL_UNSAFE.search(value):
            raise _error(settings, "database.url", f"{part} has a character Kamailio's database URL cannot carry")
    account = url.username or ""
    if url.password:
        account += f":{url.password}"
    return f"postgres://{account}{'@' if account else ''}{url.host}:{url.port or 5432}/{url.database or ''}"


def _listen_address(settings: Settings, listen: str | None) -> tuple[str, int]:
    front = settings.sip_front
    instances = [_address(settings, f"sip_front.instances[{i}]", a) for i, a in enumerate(front.instances)]
    if listen is None:
        here = _address(settings, "sip_front.listen", front.listen)
    else:
        here = _address(settings, "--kamailio-listen", listen)
    if instances and here not in instances:
        shown = ", ".join(f"{h}:{p}" for h, p in instances)
        key = "sip_front.listen" if listen is None else "--kamailio-listen"
        raise _error(settings, key, f"{here[0]}:{here[1]} is not one of sip_front.instances ({shown})")
    return here


def _error(settings: Settings, key: str, problem: str) -> RenderError:
    return RenderError(f"{settings.source}: '{key}' {problem}")


def _address(settings: Settings, key: str, value: str) -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise _error(settings, key, f"must be an IP address and port like 10.0.0.5:5060, got {value!r}") from None
    if not sep or not 1 <= number <= 65535:
        raise _error(settings, key, f"must be an IP address and port like 10.0.0.5:5060, got {value!r}")
    return host, number


def _nodes(settings: Settings) -> list[Node]:
    if not settings.sip_front.nodes:
        raise _error(settings, "sip_front.nodes", "is empty: list the switches Kamailio spreads calls over")
    nodes, seen = [], set()
    for i, node in enumerate(settings.sip_front.nodes):
        if not _NODE_NAME.fullmatch(node.name):
            raise _error(
                settings, f"sip_front.nodes[{i}].name", f"must be letters, digits, '-' or '_', got {node.name!r}"
            )
        if node.name in seen:
            raise _error(settings, f"sip_front.nodes[{i}].name", f"{node.name!r} is listed twice")
        seen.add(node.name)
        host, port = _address(settings, f"sip_front.nodes[{i}].address", node.address)
        nodes.append(Node(node.name, host, port))
    return nodes


def _cidrs(settings: Settings) -> list[str]:
    cidrs = []
    for i, value in enumerate(settings.sip_front.trunk_acl):
        try:
            cidrs.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise _error(settings, f"sip_front.trunk_acl[{i}]", f"is not an IP network (CIDR), got {value!r}") from None
    if not cidrs:
        raise _error(settings, "sip_front.trunk_acl", "is empty: no carrier could reach the hotlines")
    return cidrs
