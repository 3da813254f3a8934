"""One typed settings object, read from ccctl.yaml and CCCTL_* environment variables.

Read once at start and validated: a wrong key or type is one line naming the
file, the line and the dotted key. Passed down explicitly; nothing reads it globally.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ENV_PREFIX = "CCCTL_"


class ConfigError(Exception):
    """A settings problem a person can fix; str() is one line naming where."""


@dataclass
class DatabaseSettings:
    url: str = "sqlite:///var/ccctl.db"
    echo: bool = False


@dataclass
class EslSettings:
    # outbound: FreeSWITCH connects here once per call ('socket HOST:PORT async full')
    outbound_host: str = "127.0.0.1"
    outbound_port: int = 8084
    # inbound: we connect to FreeSWITCH's mod_event_socket for api/bgapi and events
    inbound_host: str = "127.0.0.1"
    inbound_port: int = 8021
    password: str = "ClueCon"
    reconnect_seconds: float = 2.0
    command_timeout: float = 30.0


@dataclass
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass
class Hotline:
    name: str = ""
    did: str = ""
    flow: str = ""
    language: str = "en"


@dataclass
class SkillTarget:
    """Until the ACD routes by skill, a queue node for `skill` bridges to `target` (a dial string)."""

    skill: str = ""
    target: str = ""


@dataclass
class HandoffSettings:
    default: str = "user/1000"
    skills: list[SkillTarget] = field(default_factory=list)

    def as_mapping(self) -> dict[str, str]:
        return {"*": self.default, **{s.skill: s.target for s in self.skills}}


@dataclass
class FreeswitchSettings:
    domain: str = "cc.local"
    agents_sip_port: int = 5060
    trunk_sip_port: int = 5080
    trunk_acl: list[str] = field(default_factory=lambda: ["127.0.0.1/32"])
    agent_extensions: str = "1000-1099"
    agents_password: str = "change-me"
    sounds_dir: str = "/usr/share/freeswitch/sounds"
    tts_engine: str = "flite"
    tts_voice: str = "slt"


@dataclass
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    esl: EslSettings = field(default_factory=EslSettings)
    web: WebSettings = field(default_factory=WebSettings)
    freeswitch: FreeswitchSettings = field(default_factory=FreeswitchSettings)
    hotlines: list[Hotline] = field(
        default_factory=lambda: [Hotline(name="main", did="7000", flow="main", language="en")]
    )
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    flows_dir: str = "ivr_flows"
    # recorded prompt files (<prompts_dir>/<language>/<key>.wav); empty: <flows_dir>/prompts
    prompts_dir: str = ""
    recordings_dir: str = "recordings"
    log_level: str = "INFO"
    source: str = "<defaults>"

    def hotline_for_did(self, did: str) -> Hotline | None:
        return next((h for h in self.hotlines if h.did == did), None)

    def hotline_named(self, name: str) -> Hotline | None:
        return next((h for h in self.hotlines if h.name == name), None)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.setdefault("__lines__", {})[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _where(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line else source


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value, tp, key: str, where: str, source: str):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{key}' must be a mapping, got {type(value).__name__}")
        return _build(tp, value, key, source)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: '{key}' must be a list, got {type(value).__name__}")
        return [_coerce(v, item_tp, f"{key}[{i}]", where, source) for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{where}: '{key}' has an unsupported type")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{where}: '{key}' must be true or false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where}: '{key}' must be a number, got {value!r}")
        try:
            number = tp(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: '{key}' must be {_type_name(tp)}, got {value!r}") from None
        if tp is int and isinstance(value, float) and value != int(value):
            raise ConfigError(f"{where}: '{key}' must be int, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: '{key}' must be text, got {type(value).__name__}")
        return str(value)
    return value


def _build(cls, data: dict, prefix: str, source: str):
    lines = data.get("__lines__", {})
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key == "__lines__":
            continue
        dotted = f"{prefix}.{key}" if prefix else str(key)
        where = _where(source, lines.get(key))
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{dotted}' (known: {', '.join(sorted(known))})")
        kwargs[key] = _coerce(value, hints[key], dotted, where, source)
    return cls(**kwargs)


def _apply_env(data: dict, environ: dict[str, str]) -> None:
    """CCCTL_DATABASE__URL=... sets database.url (double underscore nests)."""
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "CCCTL_CONFIG":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment {name}: '{part}' is not a section")
        node[path[-1]] = value
        node.setdefault("__lines__", {})


def load_settings(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from a YAML file (optional) with environment overrides, validated."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get("CCCTL_CONFIG")
    data: dict = {}
    source = "<defaults>"
    if path:
        file = Path(path)
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read settings file ({exc.strerror})") from None
        try:
            loaded = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise ConfigError(f"{_where(source, line)}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{source}: the settings file must be a mapping of sections")
        data = loaded
    _apply_env(data, environ)
    settings = _build(Settings, data, "", source)
    settings.source = source
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    for key, port in (
        ("esl.outbound_port", s.esl.outbound_port),
        ("esl.inbound_port", s.esl.inbound_port),
        ("web.port", s.web.port),
    ):
        if not 0 <= port <= 65535:
            raise ConfigError(f"{s.source}: '{key}' must be a TCP port (0-65535), got {port}")
    seen: set[str] = set()
    for i, hotline in enumerate(s.hotlines):
        if not hotline.name or not hotline.did:
            raise ConfigError(f"{s.source}: 'hotlines[{i}]' needs both 'name' and 'did'")
        if hotline.did in seen:
            raise ConfigError(f"{s.source}: 'hotlines[{i}].did' {hotline.did!r} is used twice")
        seen.add(hotline.did)
        hotline.flow = hotline.flow or hotline.name
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{s.source}: 'log_level' must be DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}")
