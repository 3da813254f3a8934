"""Render the FreeSWITCH 1.10 configuration directory from the fs_conf/ and dialplan/ templates.

Every settings value that reaches a FreeSWITCH file is validated here first; files are written atomically.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ccctl.acd.sip_credentials import load_a1_hashes
from ccctl.campaigns.spec import campaigns_listen_for_machines
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.ivr.prompts import ESPEAK_SPEED_WPM, site_voice

REPO_ROOT = Path(__file__).resolve().parents[2]  # ccctl/deploy/fs_render.py -> the checkout
# template folder -> where its files land inside the rendered directory
TEMPLATE_ROOTS = {"fs_conf": "", "dialplan": "dialplan"}

# Loaded in this order (loggers first, event socket before sofia so ccctl can connect before calls arrive).
BASE_MODULES = (
    "mod_console",
    "mod_logfile",
    "mod_event_socket",
    "mod_sofia",
    "mod_loopback",
    "mod_commands",
    "mod_conference",
    "mod_db",
    "mod_dptools",
    "mod_expr",
    "mod_hash",
    "mod_dialplan_xml",
    "mod_spandsp",
    "mod_opus",
    "mod_sndfile",
    "mod_native_file",
    "mod_local_stream",
    "mod_tone_stream",
)
TTS_MODULES = {"flite": "mod_flite", "tts_commandline": "mod_tts_commandline"}
# mod_tts_commandline speaks every language but a flite site's English with espeak-ng (ccctl/ivr/prompts.py:
# language_voice), so it is loaded whichever engine the site names
TTS_LOADED = {"flite": ("mod_flite", "mod_tts_commandline"), "tts_commandline": ("mod_tts_commandline",)}
# the languages a flow's `say` reads dates and numbers in (freeswitch.xml's <languages> names their sounds)
SAY_MODULES = ("mod_say_en", "mod_say_zh", "mod_say_pl")
# mod_flite.c flite_speech_open accepts exactly these voice names.
FLITE_VOICES = ("awb", "kal", "kal16", "rms", "slt")
MAX_AGENTS = 10000
# each call takes an even RTP port and the odd RTCP port above it; fewer than this is a configuration slip
MIN_RTP_PORTS = 20

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_DID = re.compile(r"\+?[0-9]+")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")
_PATH = re.compile(r"/[A-Za-z0-9_./-]*")
_EXTENSIONS = re.compile(r"([0-9]+)\s*-\s*([0-9]+)|([0-9]+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_A1 = re.compile(r"[0-9a-f]{32}")  # an MD5 in hex: anything else in the credentials file is not written


class RenderError(UserError):
    """A settings value FreeSWITCH would reject or misread; str() is one line naming the key."""


@dataclass(frozen=True)
class HotlineRoute:
    name: str
    did: str
    expression: str  # PCRE for destination_number, anchored


@dataclass(frozen=True)
class FeatureCode:
    digits: str
    feature: str  # value of cc_feature the ACD reads
    expression: str


@dataclass(frozen=True)
class AgentExtensions:
    ids: list[str]
    expression: str  # PCRE matching exactly the ids, capturing the dialled one


@dataclass(frozen=True)
class RenderModel:
    """What the templates see: the settings plus values derived and checked here."""

    settings: Settings
    modules: list[str]
    hotlines: list[HotlineRoute]
    features: list[FeatureCode]
    agents: AgentExtensions
    trunk_cidrs: list[str]
    socket_data: str
    esl_acl: str
    esl_acl_cidrs: list[str]
    sip_ip: str  # what the profiles bind: an address, or FreeSWITCH's detected one
    rtp_ports: tuple[int, int]  # switch.conf's rtp-start-port, rtp-end-port
    # appointments.timezone and its POSIX rule: timezones.conf, so `say` reads a visit's hour in the site's zone
    site_zone: tuple[str, str]
    # extension -> a1-hash of the agent's own SIP password (ccctl agents passwd); the others get agents_password
    agent_a1: dict[str, str] = field(default_factory=dict)
    # tts_engine, tts_voice every call starts with (the flow then sets its language's); espeak-ng's words a minute
    tts: tuple[str, str] = ("flite", "slt")
    espeak_speed_wpm: int = ESPEAK_SPEED_WPM


FEATURE_CODES = (("*21", "agent_login"), ("*22", "agent_logout"), ("*23", "agent_break"))


def render_all(settings: Settings, out_dir: str | os.PathLike) -> list[str]:
    """Render every template into out_dir; returns the paths written, sorted. Other files are left alone."""
    model = build_model(settings)
    rendered = render_texts(model)
    out = Path(out_dir)
    written = []
    for relative, text in rendered.items():
        target = out / relative
        try:
            write_atomic(target, text)
        except OSError as exc:
            raise RenderError(f"{target}: cannot write ({exc.strerror or exc})") from None
        written.append(str(target))
    return sorted(written)


# passwords with a shipped default that fs render writes into FreeSWITCH's configuration, and what
# anyone who knows the default could then do
DEFAULT_SECRETS = (
    ("esl", "password", "ClueCon", "control FreeSWITCH through its event socket"),
    ("freeswitch", "agents_password", "change-me", "register as any agent's extension"),
)


def default_secret_warnings(settings: Settings) -> list[str]:
    """One line per password still at its shipped default, naming the setting to change (not a new value)."""
    warnings = []
    for section, key, default, risk in DEFAULT_SECRETS:
        if getattr(getattr(settings, section), key) == default:
            warnings.append(
                f"warning: {section}.{key} is the shipped default '{default}': anyone who knows it can {risk}; "
                f"set {section}.{key} in {settings.source} (or CCCTL_{section.upper()}__{key.upper()})"
            )
    return warnings


def render_texts(model: RenderModel) -> dict[str, str]:
    """Relative output path -> rendered text, for every template (names starting with '_' are partials)."""
    env = jinja2.Environment(
        loader=jinja2.PrefixLoader({name: jinja2.FileSystemLoader(REPO_ROOT / name) for name in TEMPLATE_ROOTS}),
        autoescape=jinja2.select_autoescape(enabled_extensions=("xml",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    texts = {}
    for name in sorted(env.list_templates(extensions=["xml"])):
        folder, _, inner = name.partition("/")
        if any(part.startswith("_") for part in inner.split("/")):
            continue
        relative = str(Path(TEMPLATE_ROOTS[folder]) / inner)
        texts[relative] = env.get_template(name).render(m=model, s=model.settings)
    if not texts:
        raise RenderError(f"{REPO_ROOT}: no templates found under fs_conf/ or dialplan/")
    return texts


def build_model(settings: Settings) -> RenderModel:
    """Validate the settings FreeSWITCH will see and derive what the templates need."""
    fs, esl = settings.freeswitch, settings.esl
    _check_ports(settings)
    _check_agents_tls(settings)
    _check_name(settings, "freeswitch.domain", fs.domain, _HOSTNAME)
    _check_name(settings, "freeswitch.sounds_dir", fs.sounds_dir, _PATH)
    _check_secret(settings, "esl.password", esl.password)
    _check_secret(settings, "freeswitch.agents_password", fs.agents_password)
    if fs.tts_engine not in TTS_MODULES:
        raise _error(
            settings, "freeswitch.tts_engine", f"must be one of {', '.join(TTS_MODULES)}, got {fs.tts_engine!r}"
        )
    if fs.tts_engine == "flite" and fs.tts_voice not in FLITE_VOICES:
        raise _error(
            settings, "freeswitch.tts_voice", f"must be a flite voice ({', '.join(FLITE_VOICES)}), got {fs.tts_voice!r}"
        )
    _check_name(settings, "freeswitch.tts_voice", fs.tts_voice, _NAME)
    if fs.node_name:
        _check_name(settings, "freeswitch.node_name", fs.node_name, _NAME)
    agents = _agent_extensions(settings)
    return RenderModel(
        settings=settings,
        modules=[*BASE_MODULES, *TTS_LOADED[fs.tts_engine], *SAY_MODULES, *_campaign_modules(settings)],
        hotlines=_hotline_routes(settings, set(agents.ids)),
        features=[FeatureCode(digits, name, "^" + re.escape(digits) + "$") for digits, name in FEATURE_CODES],
        agents=agents,
        trunk_cidrs=_trunk_cidrs(settings),
        socket_data=f"{_outbound_host(settings)}:{esl.outbound_port} async full",
        esl_acl=_esl_acl_name(settings),
        esl_acl_cidrs=_esl_acl_cidrs(settings),
        sip_ip=_sip_ip(settings),
        rtp_ports=_rtp_ports(settings),
        site_zone=(settings.appointments.timezone, _posix_zone(settings)),
        agent_a1=_agent_digests(settings, agents.ids),
        tts=site_voice(fs.tts_engine, fs.tts_voice),
    )


def tts_engines(settings: Settings) -> frozenset[str]:
    """The TTS engines the rendered switch loads: what its `say:` prompts may name."""
    modules = TTS_LOADED.get(settings.freeswitch.tts_engine, ())
    return frozenset(engine for engine, module in TTS_MODULES.items() if module in modules)


def _agent_digests(settings: Settings, ids: list[str]) -> dict[str, str]:
    hashes = load_a1_hashes(settings.freeswitch.agents_credentials)
    return {extension: digest for extension, digest in hashes.items() if extension in ids and _A1.fullmatch(digest)}


def shared_default_refusal(settings: Settings) -> str | None:
    """Why `fs render` (without --demo) will not write the shipped agents_password, or None.

    It is refused while some agent extension would register with it: the ones without their own
    password from `ccctl agents passwd`.
    """
    fs = settings.freeswitch
    if fs.agents_password != "change-me":
        return None
    ids = _agent_extensions(settings).ids
    shared = [extension for extension in ids if extension not in _agent_digests(settings, ids)]
    if not shared:
        return None
    return (
        f"{settings.source}: freeswitch.agents_password is the shipped default 'change-me' and {len(shared)} agent "
        f"extensions (first {shared[0]}) would register with it: give each agent their own with "
        f"`ccctl agents passwd NAME`, or set freeswitch.agents_password (--demo renders it for a demo switch)"
    )


def _posix_zone(settings: Settings) -> str:
    """The zone's POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), the last line of its TZif file (version 2 on)."""
    name = settings.appointments.timezone
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.is_file():
            data = path.read_bytes()
            # version 2 and later end with the rule between two newlines (RFC 8536, the footer)
            if data.startswith(b"TZif") and data[4:5] not in (b"", b"\0") and data.endswith(b"\n"):
                rule = data[data.rindex(b"\n", 0, len(data) - 1) + 1 : -1]
                if rule and rule.isascii():
                    return rule.decode("ascii")
    raise _error(settings, "appointments.timezone", f"has no POSIX rule in the system's zone files: {name!r}")


def _error(settings: Settings, key: str, problem: str) -> RenderError:
    return RenderError(f"{settings.source}: '{key}' {problem}")


def _check_ports(settings: Settings) -> None:
    fs, esl = settings.freeswitch, settings.esl
    ports = {
        "freeswitch.agents_sip_port": fs.agents_sip_port,
        "freeswitch.trunk_sip_port": fs.trunk_sip_port,
        "esl.inbound_port": esl.inbound_port,
        "esl.outbound_port": esl.outbound_port,
    }
    for key, port in ports.items():
        if not 1 <= port <= 65535:
            raise _error(settings, key, f"must be a port number (1-65535), got {port}")
    # FreeSWITCH binds these three itself; two on one port means one of them fails to start.
    seen: dict[int, str] = {}
    for key in ("freeswitch.agents_sip_port", "freeswitch.trunk_sip_port", "esl.inbound_port"):
        if ports[key] in seen:
            raise _error(settings, key, f"{ports[key]} is already used by '{seen[ports[key]]}'")
        seen[ports[key]] = key


# what sofia's tls-cert-dir must hold: the profile's certificate then its key, and the CA chain
TLS_CERT_FILES = {"agent.pem": ("CERTIFICATE", "PRIVATE KEY"), "cafile.pem": ("CERTIFICATE",)}


def _check_agents_tls(settings: Settings) -> None:
    """The TLS agents profile (port 0: none) binds its own port and finds its certificates, or nothing is written."""
    tls, key = settings.freeswitch.agents_tls, "freeswitch.agents_tls"
    if tls.port == 0:
        return
    if not 1 <= tls.port <= 65535:
        raise _error(
            settings, f"{key}.port", f"must be a port number (1-65535), or 0 for no TLS profile, got {tls.port}"
        )
    fs = settings.freeswitch
    taken = {
        "freeswitch.agents_sip_port": fs.agents_sip_port,
        "freeswitch.trunk_sip_port": fs.trunk_sip_port,
        "esl.inbound_port": settings.esl.inbound_port,
    }
    for other, port in taken.items():
        if tls.port == port:
            raise _error(settings, f"{key}.port", f"{port} is already used by '{other}'")
    if not tls.cert_dir:
        raise _error(
            settings, f"{key}.cert_dir", f"must name the folder of agent.pem and cafile.pem when {key}.port is set"
        )
    _check_name(settings, f"{key}.cert_dir", tls.cert_dir, _PATH)
    for name, blocks in TLS_CERT_FILES.items():
        path = Path(tls.cert_dir) / name
        try:
            text = path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise _error(settings, f"{key}.cert_dir", f"{path}: cannot read it ({exc.strerror})") from None
        missing = [block for block in blocks if not re.search(rf"-----BEGIN [A-Z ]*{block}-----", text)]
        if missing:
            raise _error(settings, f"{key}.cert_dir", f"{path} holds no PEM {' and no '.join(missing)}")


def _rtp_ports(settings: Settings) -> tuple[int, int]:
    text = settings.freeswitch.rtp_ports.strip()
    match = re.fullmatch(r"([0-9]+)\s*-\s*([0-9]+)", text)
    if not match:
        raise _error(settings, "freeswitch.rtp_ports", f"must be a range like 16384-32768, got {text!r}")
    start, end = int(match[1]), int(match[2])
    if not 1024 <= start < end <= 65535:
        raise _error(
            settings, "freeswitch.rtp_ports", f"must lie within 1024-65535 and start before it ends, got {text!r}"
        )
    if end - start + 1 < MIN_RTP_PORTS:
        raise _error(settings, "freeswitch.rtp_ports", f"has fewer than {MIN_RTP_PORTS} ports, got {text!r}")
    return start, end


def _check_name(settings: Settings, key: str, value: str, pattern: re.Pattern) -> None:
    if not pattern.fullmatch(value):
        raise _error(settings, key, f"has characters FreeSWITCH cannot take here, got {value!r}")


def _check_secret(settings: Settings, key: str, value: str) -> None:
    # The value is a password: say what is wrong without repeating it.
    if not value:
        raise _error(settings, key, "must not be empty")
    if _CONTROL.search(value) or " " in value:
        raise _error(settings, key, "must not contain spaces or control characters")
    if "$${" in value or "x-pre-process" in value.lower():
        # FreeSWITCH's preprocessor would expand or swallow the line before the XML parser sees it.
        raise _error(settings, key, "must not contain '$${' or 'X-PRE-PROCESS'")


def _hotline_routes(settings: Settings, agent_ids: set[str]) -> list[HotlineRoute]:
    routes = []
    for i, hotline in enumerate(settings.hotlines):
        _check_name(settings, f"hotlines[{i}].name", hotline.name, _NAME)
        if not _DID.fullmatch(hotline.did):
            raise _error(
                settings, f"hotlines[{i}].did", f"must be digits with an optional leading '+', got {hotline.did!r}"
            )
        if hotline.did in agent_ids:
            raise _error(
                settings,
                f"hotlines[{i}].did",
                f"{hotline.did!r} is also an agent extension (freeswitch.agent_extensions)",
            )
        routes.append(HotlineRoute(hotline.name, hotline.did, "^" + re.escape(hotline.did) + "$"))
    _check_fax_dids(settings, agent_ids, {route.did for route in routes})
    return routes


def _check_fax_dids(settings: Settings, agent_ids: set[str], hotline_dids: set[str]) -> None:
    """Fax DIDs go into a dialplan regex and must not shadow a hotline or an agent."""
    for i, did in enumerate(settings.fax.dids):
        key = f"fax.dids[{i}]"
        if not _DID.fullmatch(did):
            raise _error(settings, key, f"must be digits with an optional leading '+', got {did!r}")
        if did in hotline_dids:
            raise _error(settings, key, f"{did!r} is also a hotline DID (hotlines)")
        if did in agent_ids:
            raise _error(settings, key, f"{did!r} is also an agent extension (freeswitch.agent_extensions)")


def _agent_extensions(settings: Settings) -> AgentExtensions:
    text = settings.freeswitch.agent_extensions.strip()
    match = _EXTENSIONS.fullmatch(text)
    if not match:
        raise _error(settings, "freeswitch.agent_extensions", f"must be a range like 1000-1099, got {text!r}")
    first, last = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(3))
    if int(first) > int(last):
        raise _error(settings, "freeswitch.agent_extensions", f"starts after it ends, got {text!r}")
    if int(last) - int(first) + 1 > MAX_AGENTS:
        raise _error(settings, "freeswitch.agent_extensions", f"has more than {MAX_AGENTS} extensions, got {text!r}")
    # A leading zero means fixed width (0100-0199); both ends must then be written with the same width.
    width = len(first) if first.startswith("0") and len(first) > 1 else 0
    if width and len(last) != width:
        raise _error(settings, "freeswitch.agent_extensions", f"mixes widths with a leading zero, got {text!r}")
    ids = [str(n).zfill(width) for n in range(int(first), int(last) + 1)]
    expression = "^(" + "|".join(_range_alternatives(first, last, width)) + ")$"
    return AgentExtensions(ids, expression)


def _range_alternatives(first: str, last: str, width: int) -> list[str]:
    if width:
        return _same_width_parts(first, last)
    parts = []
    lo, hi = int(first), int(last)
    for digits in range(len(str(lo)), len(str(hi)) + 1):
        low = max(lo, 0 if digits == 1 else 10 ** (digits - 1))
        high = min(hi, 10**digits - 1)
        parts += _same_width_parts(str(low), str(high))
    return parts


def _same_width_parts(lo: str, hi: str) -> list[str]:
    """Regex alternatives matching exactly the numbers lo..hi written with len(lo) digits."""
    if lo == hi:
        return [lo]
    if len(lo) == 1:
        return [f"[{lo}-{hi}]"]
    if lo[0] == hi[0]:
        return [lo[0] + part for part in _same_width_parts(lo[1:], hi[1:])]
    rest = len(lo) - 1
    parts, upper = [], []
    start, end = int(lo[0]), int(hi[0])
    if lo[1:] != "0" * rest:
        parts = [lo[0] + part for part in _same_width_parts(lo[1:], "9" * rest)]
        start += 1
    if hi[1:] != "9" * rest:
        upper = [hi[0] + part for part in _same_width_parts("0" * rest, hi[1:])]
        end -= 1
    if start <= end:
        lead = str(start) if start == end else f"[{start}-{end}]"
        parts.append(lead + "[0-9]" * rest)
    return parts + upper


def _campaign_modules(settings: Settings) -> list[str]:
    """mod_avmd when a campaign listens for answering machines (`machine:`), none otherwise."""
    return ["mod_avmd"] if campaigns_listen_for_machines(settings.flows_dir) else []


def _trunk_cidrs(settings: Settings) -> list[str]:
    cidrs = []
    if not settings.freeswitch.trunk_acl:
        raise _error(settings, "freeswitch.trunk_acl", "is empty: no carrier could reach the hotlines")
    for i, value in enumerate(settings.freeswitch.trunk_acl):
        try:
            # strict=False: FreeSWITCH masks host bits itself; a bare address becomes /32 (or /128).
            cidrs.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise _error(
                settings, f"freeswitch.trunk_acl[{i}]", f"is not an IP network (CIDR), got {value!r}"
            ) from None
    return cidrs


def _outbound_host(settings: Settings) -> str:
    host = settings.esl.outbound_host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        _check_name(settings, "esl.outbound_host", host, _HOSTNAME)
    return host


def _sip_ip(settings: Settings) -> str:
    value = settings.freeswitch.sip_ip.strip()
    if not value:
        return "$${local_ip_v4}"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise _error(
            settings, "freeswitch.sip_ip", f"must be an IP address (or empty for the detected one), got {value!r}"
        ) from None
    if address.is_unspecified:
        raise _error(settings, "freeswitch.sip_ip", f"must be one address the phones can reach, got {value!r}")
    return str(address)


def _inbound_address(settings: Settings) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(settings.esl.inbound_host)
    except ValueError:
        raise _error(
            settings,
            "esl.inbound_host",
            f"must be an IP address FreeSWITCH listens on, got {settings.esl.inbound_host!r}",
        ) from None


def _esl_acl_name(settings: Settings) -> str:
    return "loopback.auto" if _inbound_address(settings).is_loopback else "esl_clients"


def _esl_acl_cidrs(settings: Settings) -> list[str]:
    """Who may connect to the event socket when it listens beyond loopback: the ccctl host, found from esl.outbound_host."""
    if _inbound_address(settings).is_loopback:
        return []
    try:
        client = ipaddress.ip_address(settings.esl.outbound_host)
    except ValueError:
        raise _error(
            settings,
            "esl.outbound_host",
            f"must be an IP address when esl.inbound_host is not loopback (it feeds the event socket ACL), "
            f"got {settings.esl.outbound_host!r}",
        ) from None
    if client.is_unspecified:
        raise _error(settings, "esl.outbound_host", f"must be the address of the ccctl host, got {str(client)!r}")
    return [str(ipaddress.ip_network(client)), "127.0.0.0/8", "::1/128"]


def write_atomic(target: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename, keeping an existing file's mode and owner."""
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = target.stat() if target.exists() else None
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # 0640: these files hold the event socket and SIP passwords.
        os.chmod(temp, previous.st_mode & 0o7777 if previous else 0o640)
        if previous:
            try:
                os.chown(temp, previous.st_uid, previous.st_gid)
            except PermissionError:
                pass  # not root: the file keeps our owner, as any new file would
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
