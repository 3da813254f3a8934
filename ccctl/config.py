"""One typed settings object, read from ccctl.yaml and CCCTL_* environment variables.

Read once at start and validated: a wrong key or type is one line naming the
file, the line and the dotted key. Passed down explicitly; nothing reads it globally.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ccctl.errors import UserError

ENV_PREFIX = "CCCTL_"


class ConfigError(UserError):
    """A settings problem a person can fix; str() is one line naming where."""


@dataclass
class DatabaseSettings:
    url: str = "sqlite:///var/ccctl.db"
    echo: bool = False
    # a call flow's database step waits this long for a locked or unreachable database (the caller
    # hears the hold prompt), then the node takes its failure branch
    outage_seconds: float = 20.0


@dataclass
class EslNode:
    """One FreeSWITCH's event socket when a controller drives several (esl.nodes)."""

    name: str = ""  # the node's freeswitch.node_name: its events' FreeSWITCH-Switchname
    host: str = "127.0.0.1"
    port: int = 8021


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
    # calls driven at once; a connection beyond it is closed at once, and the dialplan's after-socket
    # step hangs that caller up (503 before answer) instead of every call slowing down together
    max_calls: int = 2000
    # several switches, each by its freeswitch.node_name; empty: the one at inbound_host/inbound_port
    nodes: list[EslNode] = field(default_factory=list)


@dataclass
class AlarmThresholds:
    """When the wallboard raises an alarm (each alarm is also logged once when it starts)."""

    service_level_target: float = 0.8
    caller_wait_seconds: int = 120
    queue_full_callers: int = 20
    agent_max_no_answer: int = 3
    disk_free_percent: float = 10.0
    disk_path: str = "."
    # who hears of an alarm without looking at the wallboard: the supervisor on duty's e-mail and mobile
    notify_email: str = ""
    notify_sms: str = ""
    # the notices' language (en, zh, pl): the supervisor on duty's; empty: the site's (the first hotline's)
    notify_language: str = ""
    # one notice per alarm (kind and subject) in this period, however often it clears and returns
    notify_every_minutes: float = 60.0
    # an alarm is told only once it has lasted this long (a blip, or the switch link at start-up, tells nobody)
    notify_after_seconds: float = 15.0
    # gateways checked for the gateway_down alarm: mail (SMTP), sms (Kannel's smsbox), fax (the switch's gateway)
    gateways: list[str] = field(default_factory=list)


@dataclass
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Flask's SECRET_KEY (sessions live in the database and do not rely on it); empty: generated into var/
    secret_key: str = ""
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 900
    # a console session ends after this long without a request, and this long after its login at the latest
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # the reverse proxies in front of the console (addresses or networks): only from them are
    # X-Forwarded-For / X-Forwarded-Proto believed; empty: every client is the peer of the connection
    trusted_proxies: list[str] = field(default_factory=list)
    # an agent may open the patients of its calls of the last N hours
    agent_recent_hours: int = 12
    wrapup_codes: list[str] = field(default_factory=lambda: ["resolved", "callback", "ticket", "transferred", "other"])
    alarms: AlarmThresholds = field(default_factory=AlarmThresholds)


@dataclass
class Hotline:
    name: str = ""
    did: str = ""
    flow: str = ""
    language: str = "en"


@dataclass
class SkillTarget:
    """Without the ACD (acd.enabled false), a queue node for `skill` bridges to `target` (a dial string)."""

    skill: str = ""
    target: str = ""


@dataclass
class HandoffSettings:
    default: str = "user/1000"
    skills: list[SkillTarget] = field(default_factory=list)

    def as_mapping(self) -> dict[str, str]:
        return {"*": self.default, **{s.skill: s.target for s in self.skills}}


@dataclass
class PinSettings:
    """Member PIN lock-out: `max_failures` wrong PINs across calls within `window_seconds` lock for `lock_seconds`."""

    max_failures: int = 5
    window_seconds: float = 900
    lock_seconds: float = 1800


@dataclass
class AgentsTlsSettings:
    """A second agents profile for remote agents: SIP over TLS and SRTP only (port 0: none)."""

    port: int = 0
    # FreeSWITCH's tls-cert-dir: agent.pem (the certificate, then its private key) and cafile.pem (the CA chain)
    cert_dir: str = ""


@dataclass
class FreeswitchSettings:
    domain: str = "cc.local"
    agents_sip_port: int = 5060
    trunk_sip_port: int = 5080
    # the address both SIP profiles and their RTP bind; empty: the one FreeSWITCH detects ($${local_ip_v4})
    sip_ip: str = ""
    trunk_acl: list[str] = field(default_factory=lambda: ["127.0.0.1/32"])
    agent_extensions: str = "1000-1099"
    # the UDP ports FreeSWITCH draws media from; two switches on one machine need ranges that do not overlap
    rtp_ports: str = "16384-32768"
    agents_password: str = "change-me"
    agents_tls: AgentsTlsSettings = field(default_factory=AgentsTlsSettings)
    # the digests of each agent's own SIP password (ccctl agents passwd); fs render writes them instead
    # of agents_password for those extensions
    agents_credentials: str = "var/agent-sip.json"
    sounds_dir: str = "/usr/share/freeswitch/sounds"
    tts_engine: str = "flite"
    tts_voice: str = "slt"
    # this node's name among several (switch.conf's switchname, in every event); empty: the host name
    node_name: str = ""
    # switch.conf's limits: new calls a second (more are refused at once) and calls at once, on this node
    sessions_per_second: int = 30
    max_sessions: int = 1000


@dataclass
class EmailSettings:
    """Outbound SMTP and the IMAP mailbox polled for patients' mail (section `email`)."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    from_address: str = "contact-center@hospital.invalid"
    # empty imap_host: no mailbox is polled
    imap_host: str = ""
    imap_port: int = 143
    imap_ssl: bool = False
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    poll_seconds: float = 60.0
    # larger mails are filed with a problem and their raw text kept as a file, not parsed
    max_message_bytes: int = 15_000_000


@dataclass
class TicketCategory:
    name: str = ""
    department: str = ""
    sla_hours: float = 72.0


@dataclass
class InboxSettings:
    """Attachments store, ticket categories with their SLA, escalation (section `inbox`)."""

    # outside any web root: files are only handed out to logged-in staff
    attachments_dir: str = "var/attachments"
    ticket_categories: list[TicketCategory] = field(
        default_factory=lambda: [
            TicketCategory(name="complaint", department="patient-relations", sla_hours=72.0),
            TicketCategory(name="request", department="registration", sla_hours=120.0),
        ]
    )
    default_sla_hours: float = 120.0
    # overdue tickets are reported here by e-mail ("" = escalation is recorded only)
    escalation_address: str = ""
    escalate_every_seconds: float = 300.0


@dataclass
class SmsSettings:
    """Kannel's smsbox: sendsms for outgoing SMS, get-url and dlr-url back to our web endpoint (section `sms`)."""

    sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    username: str = "ccctl"
    password: str = "change-me"
    # the sender number or name patients see
    sender: str = ""
    # where Kannel reaches our web endpoints (dlr-url, get-url); empty: http://<web.host>:<web.port>
    callback_base_url: str = ""
    # addresses allowed to call those endpoints (the Kannel host)
    callback_allow: list[str] = field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    # 1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC rejected
    dlr_mask: int = 31
    messages_per_second: float = 5.0
    request_timeout: float = 10.0
    opt_out_keywords: list[str] = field(
        default_factory=lambda: ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET"]
    )
    opt_in_keywords: list[str] = field(default_factory=lambda: ["START", "UNSTOP", "YES"])
    # Kannel's own ports, used only to write kannel.conf (`ccctl sms kannel-conf`)
    bearerbox_admin_port: int = 13000
    bearerbox_smsbox_port: int = 13001


@dataclass
class FaxSettings:
    """Fax hotline DIDs, where faxes are stored, and how sending retries (section `fax`)."""

    dids: list[str] = field(default_factory=lambda: ["7900"])
    # received faxes under <faxes_dir>/<patient code>/ (unknown senders: <faxes_dir>/unassigned/)
    faxes_dir: str = "faxes"
    # the sending station's identity (fax_ident) and header line
    station_id: str = ""
    header: str = "Contact center"
    # dial string of the outgoing fax call; {number} is the patient's fax number
    dial_string: str = "sofia/gateway/trunk/{number}"
    attempts: int = 3
    retry_seconds: float = 300.0
    call_timeout_seconds: float = 300.0


@dataclass
class UploadSettings:
    """Files patients send from the web form (section `uploads`)."""

    max_bytes: int = 10_000_000


@dataclass
class StorageSettings:
    """Media at rest: recordings, voice messages, faxes and uploads sealed with one key (section `storage`)."""

    # a 32-byte key (`ccctl storage keygen`), readable by its owner only; empty: media is stored in clear
    key_file: str = ""
    # how often `ccctl serve` seals the recordings and voice messages of calls that ended
    seal_every_seconds: float = 5.0


@dataclass
class ContactFormSettings:
    """How often the patients' contact form (/contact) files a message (section `contact_form`).

    Within any window_seconds: at most max_per_address messages from one client address, and at
    most max_per_patient about one patient (the one the typed phone, e-mail or code names; for
    no patient, the typed phone or e-mail itself).
    """

    max_per_address: int = 10
    max_per_patient: int = 5
    window_seconds: int = 3600
    # what the form shows patients: the hospital's name (empty: "Hospital" in their language) and logo (an https URL)
    hospital_name: str = ""
    logo_url: str = ""
    # the privacy notice under the form (the hospital's own text); empty: the shipped one in the page's language
    privacy_notice: str = ""


@dataclass
class AcdSettings:
    """The ACD router (ccctl.acd); queues and agents themselves live in the database (`ccctl queues add`)."""

    enabled: bool = True
    # the router also runs when woken by a new caller or a freed agent; this is its idle pace
    router_tick_seconds: float = 0.5
    # how long an agent may stay Reserved without being rung (a crashed process frees them after this)
    reservation_seconds: float = 30.0
    # each serve process notes it is alive this often; the callers of a process silent for heartbeats_missed
    # beats are taken over by another, and the agents it had reserved are freed
    heartbeat_seconds: float = 1.0
    heartbeats_missed: int = 3
    # how a callback reaches the patient; {number} is their number (digits and +)
    callback_dial: str = "sofia/gateway/trunk/{number}"
    # a callback the patient did not answer is dialled again no sooner than this
    callback_retry_minutes: float = 10.0
    # contacts an agent takes at once per channel, unless the agent has their own (`ccctl agents capacity`)
    voice_capacity: int = 1
    chat_capacity: int = 3
    task_capacity: int = 1
    # an agent with more open chats than this is not offered a call
    max_chats_for_call: int = 1


@dataclass
class CallbackSettings:
    """Callbacks asked for in a flow (callback_request node: after hours, all agents busy)."""

    # a callback is due this long after the hotline (next) opens; the worklist marks it overdue after that
    deadline_hours: float = 4.0


@dataclass
class CampaignSettings:
    """Outbound care campaigns (ccctl.campaigns); each campaign itself is a YAML file beside the flows."""

    # the zone calling windows are read in for a patient without a `time_zone` custom field
    time_zone: str = "UTC"
    # how a campaign call reaches the patient; {number} is their number (digits and +)
    dial: str = "sofia/gateway/trunk/{number}"
    # how often the dialer looks for due patients (seconds)
    tick_seconds: float = 1.0
    # how long a patient's phone rings before the attempt counts as no_answer
    ring_seconds: int = 45
    # a call a dead process left dialing or talking this long is retried later, never at once
    stale_minutes: float = 10.0


@dataclass
class ArchiveSettings:
    """Recordings archive to S3 (section `archive`); empty bucket: recordings stay local."""

    bucket: str = ""
    prefix: str = "recordings/"
    # "" = AWS itself; any S3-compatible service otherwise (MinIO, Ceph, moto)
    endpoint_url: str = ""
    region: str = "us-east-1"
    # "" = boto3's own chain (environment, ~/.aws, instance role)
    access_key_id: str = ""
    secret_access_key: str = ""
    # S3's own encryption asked for on each upload: "" (the bucket's default), "AES256" or "aws:kms"; the
    # copy is sealed by us anyway while storage.key_file is set
    server_side_encryption: str = ""
    # the local copy goes only after a verified upload and once the recording is this old
    prune_after_days: float = 30.0
    # tries per recording and run; waits backoff_seconds, then twice that, ...
    max_attempts: int = 4
    backoff_seconds: float = 2.0
    # how often `ccctl serve` runs the job (0: never; run `ccctl recordings archive` from cron)
    every_seconds: float = 900.0


@dataclass
class RetentionSettings:
    """How long things are kept (section `retention`, docs/security.md); 0 days: forever."""

    recordings_days: float = 0.0
    voice_messages_days: float = 0.0
    # inbox items' bodies and attachments, SMS bodies, faxes sent: blanked or deleted, the rows kept
    message_bodies_days: float = 0.0
    audit_days: float = 0.0
    # how often `ccctl serve` runs it (0: never; run `ccctl retention run` from cron)
    every_seconds: float = 86400.0


@dataclass
class FhirPullSettings:
    """`ccctl serve` pulling the day's visits from the hospital's FHIR server (section `fhir_pull`); off by default."""

    # the FHIR base (https://his.example/fhir/r4) and a file whose first line is its bearer token
    server: str = ""
    token_file: str = ""
    # a pull every so many minutes (0: never; `ccctl fhir pull` from cron instead)
    every_minutes: float = 0.0
    # today and the days after it, in the site's zone (appointments.timezone)
    days: int = 1


@dataclass
class Hl7Settings:
    """HL7 v2 over MLLP with the hospital's systems (section `hl7`); both directions off by default."""

    # ccctl serve takes ADT and SIU messages here when listen is true
    listen: bool = False
    listen_host: str = "127.0.0.1"
    listen_port: int = 2575
    # bookings made by phone or by an agent go to the HIS as SIU; empty host: nothing is queued or sent
    outbound_host: str = ""
    outbound_port: int = 2575
    # MSH-3/4 of our ACKs and messages, MSH-5/6 of the messages we send
    sending_application: str = "CCCTL"
    sending_facility: str = "CONTACT-CENTER"
    receiving_application: str = "HIS"
    receiving_facility: str = "HOSPITAL"
    max_message_bytes: int = 1_048_576
    # an outbound message not acknowledged is tried again after retry_seconds, doubling up to retry_max_seconds
    retry_seconds: float = 10.0
    retry_max_seconds: float = 900.0
    send_timeout_seconds: float = 10.0


@dataclass
class KbSettings:
    """The knowledge base (section `kb`): articles in <dir>/<lang>/<slug>.md, and how sure a search must be."""

    dir: str = "kb"
    # a search whose best article scores below this (0..1) answers "no answer"
    min_score: float = 0.2


@dataclass
class ChatSettings:
    """The web chat (section `chat`, docs/chat.md): who takes chats, when, and how much one client may send."""

    # the ACD queue a chat waits in for a person (`ccctl queues add chat --skills chat:1`)
    queue: str = "chat"
    # someone with this skill must be available for a chat to wait for a person (without an ACD running,
    # every available agent with it is offered the chat; a transfer to a queue names another skill)
    skill: str = "chat"
    # when a person answers, in appointments.timezone; outside them the patient leaves a message
    open_hours: str = "00:00-24:00"
    open_days: list[str] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    # sites that may embed the widget (their origins, "https://www.hospital.example"); [] = this console only
    allowed_origins: list[str] = field(default_factory=list)
    # per client address within window_seconds: chats started; per chat: messages
    max_chats_per_address: int = 10
    max_messages_per_chat: int = 200
    window_seconds: int = 3600
    # the one-time code sent by SMS: how long it holds, how many wrong tries end it
    code_seconds: int = 300
    code_max_failures: int = 3


@dataclass
class AppointmentsSettings:
    """Booking visits (section `appointments`): the site's time zone, how far ahead slots are offered, confirmations."""

    # slots are stored in UTC and read, spoken and imported in this zone (an IANA name: "Europe/Warsaw")
    timezone: str = "UTC"
    # free slots are offered this many days ahead
    lookahead_days: int = 14
    # how a patient is told of a change, tried in order (the first the patient can receive): sms, email; [] = not told
    confirm_by: list[str] = field(default_factory=lambda: ["sms", "email"])


@dataclass
class SwitchNode:
    """One FreeSWITCH of several: its name and the address of its trunk profile (host:port)."""

    name: str = ""
    address: str = ""


@dataclass
class SipFrontSettings:
    """Kamailio in front of several switches (section `sip_front`, rendered by `ccctl fs render --kamailio`)."""

    # where patients' calls (from the carrier) and agents' phones reach Kamailio
    listen: str = "127.0.0.1:5060"
    # a redundant pair: every Kamailio's address (host:port); switches ring agents through the first that answers
    instances: list[str] = field(default_factory=list)
    # the carrier's addresses Kamailio admits for hotline and fax calls
    trunk_acl: list[str] = field(default_factory=lambda: ["127.0.0.1/32"])
    nodes: list[SwitchNode] = field(default_factory=list)
    # OPTIONS to every node this often; one unanswered probe takes a node out, one answer brings it back
    probe_seconds: int = 5
    # how long a node may stay silent on an INVITE before the call is tried on the next node
    failover_seconds: int = 2
    modules_dir: str = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


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
    pins: PinSettings = field(default_factory=PinSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    fax: FaxSettings = field(default_factory=FaxSettings)
    uploads: UploadSettings = field(default_factory=UploadSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    contact_form: ContactFormSettings = field(default_factory=ContactFormSettings)
    appointments: AppointmentsSettings = field(default_factory=AppointmentsSettings)
    acd: AcdSettings = field(default_factory=AcdSettings)
    callbacks: CallbackSettings = field(default_factory=CallbackSettings)
    campaigns: CampaignSettings = field(default_factory=CampaignSettings)
    hl7: Hl7Settings = field(default_factory=Hl7Settings)
    fhir_pull: FhirPullSettings = field(default_factory=FhirPullSettings)
    sip_front: SipFrontSettings = field(default_factory=SipFrontSettings)
    kb: KbSettings = field(default_factory=KbSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
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
        ("email.smtp_port", s.email.smtp_port),
        ("email.imap_port", s.email.imap_port),
        ("hl7.listen_port", s.hl7.listen_port),
        ("hl7.outbound_port", s.hl7.outbound_port),
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
    _validate_nodes(s)
    _validate_inbox(s)
    _validate_pins(s)
    _validate_contact_form(s)
    _validate_appointments(s)
    _validate_chat(s)
    for key, value in vars(s.retention).items():
        if value < 0:
            raise ConfigError(f"{s.source}: 'retention.{key}' must be 0 or more, got {value}")
    _validate_fhir_pull(s)
    if not 0 <= s.kb.min_score <= 1:
        raise ConfigError(f"{s.source}: 'kb.min_score' must be between 0 and 1, got {s.kb.min_score}")
    for gateway in s.web.alarms.gateways:
        if gateway not in ("mail", "sms", "fax"):
            raise ConfigError(f"{s.source}: 'web.alarms.gateways' has {gateway!r}: use mail, sms or fax")


_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _validate_nodes(s: Settings) -> None:
    if s.freeswitch.node_name and not _NODE_NAME.fullmatch(s.freeswitch.node_name):
        raise ConfigError(f"{s.source}: 'freeswitch.node_name' takes letters, digits, '.', '_' and '-', "
                          f"got {s.freeswitch.node_name!r}")  # fmt: skip
    for key in ("sessions_per_second", "max_sessions"):
        if getattr(s.freeswitch, key) < 1:
            raise ConfigError(f"{s.source}: 'freeswitch.{key}' must be at least 1, got {getattr(s.freeswitch, key)}")
    names: set[str] = set()
    for i, node in enumerate(s.esl.nodes):
        key = f"esl.nodes[{i}]"
        if not _NODE_NAME.fullmatch(node.name or "") or node.name in names:
            raise ConfigError(f"{s.source}: '{key}.name' must be a node name, set and unique, got {node.name!r}")
        if not node.host or not 0 < node.port <= 65535:
            raise ConfigError(f"{s.source}: '{key}' needs a host and a TCP port (1-65535), got {node.host}:{node.port}")
        names.add(node.name)


def _validate_fhir_pull(s: Settings) -> None:
    pull = s.fhir_pull
    if pull.every_minutes < 0 or pull.days < 1:
        raise ConfigError(f"{s.source}: 'fhir_pull' needs every_minutes 0 or more and days 1 or more")
    if pull.every_minutes > 0 and not (pull.server and pull.token_file):
        raise ConfigError(f"{s.source}: 'fhir_pull.every_minutes' is set: 'server' and 'token_file' are needed too")


def _validate_pins(s: Settings) -> None:
    if s.pins.max_failures < 1:
        raise ConfigError(f"{s.source}: 'pins.max_failures' must be at least 1, got {s.pins.max_failures}")
    for key in ("window_seconds", "lock_seconds"):
        if getattr(s.pins, key) <= 0:
            raise ConfigError(f"{s.source}: 'pins.{key}' must be more than 0, got {getattr(s.pins, key)}")


def _validate_inbox(s: Settings) -> None:
    names: set[str] = set()
    for i, rule in enumerate(s.inbox.ticket_categories):
        key = f"inbox.ticket_categories[{i}]"
        if not rule.name or rule.name in names:
            raise ConfigError(f"{s.source}: '{key}.name' must be set and unique, got {rule.name!r}")
        if rule.sla_hours <= 0:
            raise ConfigError(f"{s.source}: '{key}.sla_hours' must be more than 0, got {rule.sla_hours}")
        names.add(rule.name)
    if s.inbox.default_sla_hours <= 0:
        raise ConfigError(f"{s.source}: 'inbox.default_sla_hours' must be more than 0, got {s.inbox.default_sla_hours}")


def _validate_appointments(s: Settings) -> None:
    try:
        ZoneInfo(s.appointments.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{s.source}: 'appointments.timezone' must be a time zone name like Europe/Warsaw, "
            f"got {s.appointments.timezone!r}"
        ) from None
    if s.appointments.lookahead_days < 1:
        raise ConfigError(
            f"{s.source}: 'appointments.lookahead_days' must be at least 1, got {s.appointments.lookahead_days}"
        )
    for channel in s.appointments.confirm_by:
        if channel not in ("sms", "email"):
            raise ConfigError(f"{s.source}: 'appointments.confirm_by' takes sms and email, got {channel!r}")


def _validate_chat(s: Settings) -> None:
    hours = re.fullmatch(r"(\d{2}):([0-5]\d)-(\d{2}):([0-5]\d)", s.chat.open_hours.strip())
    start, end = (int(hours[1]) * 60 + int(hours[2]), int(hours[3]) * 60 + int(hours[4])) if hours else (0, 0)
    if not hours or not start < end <= 24 * 60:
        raise ConfigError(f"{s.source}: 'chat.open_hours' must be a range within a day like 08:00-18:00, "
                          f"got {s.chat.open_hours!r}")  # fmt: skip
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for day in s.chat.open_days:
        if day not in days:
            raise ConfigError(f"{s.source}: 'chat.open_days' takes {', '.join(days)}, got {day!r}")
    counts = ("max_chats_per_address", "max_messages_per_chat", "window_seconds", "code_seconds", "code_max_failures")
    for key in counts:
        if getattr(s.chat, key) < 1:
            raise ConfigError(f"{s.source}: 'chat.{key}' must be at least 1, got {getattr(s.chat, key)}")


def _validate_contact_form(s: Settings) -> None:
    if s.uploads.max_bytes < 1:
        raise ConfigError(f"{s.source}: 'uploads.max_bytes' must be at least 1, got {s.uploads.max_bytes}")
    for key in ("max_per_address", "max_per_patient", "window_seconds"):
        if getattr(s.contact_form, key) < 1:
            raise ConfigError(
                f"{s.source}: 'contact_form.{key}' must be at least 1, got {getattr(s.contact_form, key)}"
            )
