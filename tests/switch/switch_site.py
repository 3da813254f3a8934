"""A real FreeSWITCH 1.10 site for the tests: the project's rendered configuration, `ccctl serve`, SIPp.

SwitchSite writes a ccctl.yaml into the test's directory (free loopback ports, SQLite or PostgreSQL),
renders it with `ccctl fs render` exactly as an operator does, starts FreeSWITCH in the foreground with
every path inside that directory, then `ccctl serve`. Patients call through the trunk profile and
agents' phones register on the agents profile, both as SIPp processes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import sipp
import yaml

# not CCCTL_*: ccctl (run by these tests) reads every CCCTL_ variable as a setting
FREESWITCH_HOME = Path(os.environ.get("CC_TEST_FREESWITCH_HOME", "/usr/local/freeswitch"))
FREESWITCH = FREESWITCH_HOME / "bin" / "freeswitch"
FS_CLI = FREESWITCH_HOME / "bin" / "fs_cli"
FS_MODULES = FREESWITCH_HOME / "lib" / "freeswitch" / "mod"
CCCTL = [sys.executable, "-c", "from ccctl.cli import main; main()"]
START_SECONDS = 30.0
AGENTS_PASSWORD = "agents-secret"
ESL_PASSWORD = "esl-secret"
DOMAIN = "cc.test"
# above the switch's RTP range (freeswitch.rtp_ports: 16384-32768)
SIPP_MEDIA_PORTS_FROM = 40000
# scripts/run_tests.py runs switch test files side by side in lanes 0..N-1: each lane's switches draw RTP from
# their own slice of 16384-32768, and its SIPp media ports from their own residue mod SIPP_PORT_STEP, so sites
# running at the same moment never take each other's ports
LANE = int(os.environ.get("CC_TEST_LANE", "0"))
LANES = max(1, int(os.environ.get("CC_TEST_LANES", "1")))
RTP_SLICE = (32768 - 16384) // LANES
SIPP_PORT_STEP = 40 * LANES
# the hotline most switch tests use: a greeting, then the cardio queue
QUEUE_FLOW = """\
flow: main
description: switch test hotline
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: "say:Hello"
    next: to_agent
  to_agent:
    type: queue
    skill: cardio
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Nobody could take your call"
"""


def missing_tools() -> str:
    """Why the real-switch tests cannot run here, or "" when they can."""
    if not FREESWITCH.exists():
        return f"no FreeSWITCH at {FREESWITCH} (scripts/install.sh --test installs the test build)"
    if shutil.which("sipp") is None:
        return "no sipp (Debian sip-tester; scripts/install.sh --test installs it)"
    if shutil.which("sox") is None:
        return "no sox (scripts/install.sh --test installs it)"
    return ""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as probe:
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port


def tone(path: Path, seconds: float, frequency: int, volume: float = 0.5) -> Path:
    """A u-law 8 kHz WAV of one sine tone (what SIPp streams as a person's voice)."""
    subprocess.run(
        [
            "sox",
            "-q",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "u-law",
            str(path),
            "synth",
            str(seconds),
            "sine",
            str(frequency),
            "vol",
            str(volume),
        ],
        check=True,
    )
    return path


@dataclass
class SippRun:
    """One SIPp process and what it left: its exit code (0: every call went as scripted) and its errors."""

    process: subprocess.Popen
    workdir: Path
    name: str

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"SIPp {self.name} still running after {timeout} s: {self.errors()}") from None

    def errors(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in self.workdir.glob("*_errors.log"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class SwitchSite:
    """FreeSWITCH + `ccctl serve` in `root`; settings overrides go into ccctl.yaml before the render."""

    root: Path
    flows: dict[str, str]  # file name under flows/ -> YAML text
    database_url: str = ""
    settings: dict = field(default_factory=dict)
    fs: subprocess.Popen | None = None
    serve: subprocess.Popen | None = None
    sipps: list[SippRun] = field(default_factory=list)
    _serve_logs: int = 0

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in ("agents_sip", "trunk_sip", "esl_in", "esl_out", "web")}
        # SIPp binds its -mp port and the next but one; FreeSWITCH takes RTP ports at random from
        # switch.conf's rtp-start-port..rtp-end-port without trying them first (switch_core_port_allocator.c:
        # no SPF_ROBUST_UDP), so a SIPp port inside that range fails the call that draws it ("Bind Error")
        first = SIPP_MEDIA_PORTS_FROM + free_port() % (20000 // SIPP_PORT_STEP) * SIPP_PORT_STEP + 40 * LANE
        self.media_ports = iter(range(first, 65000, SIPP_PORT_STEP))
        for name in (
            "conf",
            "log",
            "db",
            "run",
            "tmp",
            "storage",
            "rec",
            "sounds/music/8000",
            "sounds/music/16000",
            "flows",
            "recordings",
            "faxes",
            "sipp",
        ):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        # music on hold for local_stream://moh: a quiet 300 Hz hum
        for rate in ("8000", "16000"):
            subprocess.run(
                [
                    "sox",
                    "-q",
                    "-n",
                    "-r",
                    rate,
                    "-c",
                    "1",
                    str(self.root / f"sounds/music/{rate}/moh.wav"),
                    "synth",
                    "10",
                    "sine",
                    "300",
                    "vol",
                    "0.2",
                ],
                check=True,
            )
        for name, text in self.flows.items():
            target = self.root / "flows" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.config = self.root / "ccctl.yaml"
        self.config.write_text(yaml.safe_dump(self._settings(), sort_keys=False))
        self.voice_dir = self.root / "sipp"

    def _settings(self) -> dict:
        p = self.ports
        base = {
            "database": {"url": self.database_url or f"sqlite:///{self.root / 'cc.db'}"},
            "esl": {
                "outbound_host": "127.0.0.1",
                "outbound_port": p["esl_out"],
                "inbound_host": "127.0.0.1",
                "inbound_port": p["esl_in"],
                "password": ESL_PASSWORD,
                "reconnect_seconds": 0.5,
            },
            "web": {"host": "127.0.0.1", "port": p["web"], "secret_key": "switch-tests"},
            "freeswitch": {
                "domain": DOMAIN,
                "sip_ip": "127.0.0.1",
                "agents_sip_port": p["agents_sip"],
                "trunk_sip_port": p["trunk_sip"],
                "trunk_acl": ["127.0.0.1/32"],
                "agent_extensions": "1000-1019",
                "agents_password": AGENTS_PASSWORD,
                "sounds_dir": str(self.root / "sounds"),
                "rtp_ports": f"{16384 + LANE * RTP_SLICE}-{16384 + (LANE + 1) * RTP_SLICE - 1}",
            },
            "hotlines": [{"name": "main", "did": "7000", "flow": "main", "language": "en"}],
            "fax": {"dids": ["7900"], "faxes_dir": str(self.root / "faxes")},
            "acd": {"router_tick_seconds": 0.2},
            "flows_dir": str(self.root / "flows"),
            "recordings_dir": str(self.root / "recordings"),
            "log_level": "DEBUG",
        }
        for section, values in self.settings.items():
            if isinstance(values, dict) and isinstance(base.get(section), dict):
                base[section] = {**base[section], **values}
            else:
                base[section] = values
        return base

    # -- the operator's commands -----------------------------------------------------------

    def ccctl(self, *args: str, check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*CCCTL, "-c", str(self.config), *args], cwd=self.root, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ccctl {' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
        return result

    def api(self, command: str) -> str:
        """An API command on the switch's event socket (fs_cli -x), reply text."""
        result = subprocess.run(
            [str(FS_CLI), "-H", "127.0.0.1", "-P", str(self.ports["esl_in"]), "-p", ESL_PASSWORD, "-x", command],
            capture_output=True,
            text=True,
            timeout=20,
        )
        return result.stdout

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> SwitchSite:
        self.ccctl("fs", "render", "--out", str(self.root / "conf"))
        self.ccctl("db", "upgrade")
        self.start_switch()
        self.start_serve()
        return self

    def start_switch_without_controller(self) -> SwitchSite:
        """The rendered configuration and FreeSWITCH, no `ccctl serve`: the test listens on ports["esl_out"]."""
        self.ccctl("fs", "render", "--out", str(self.root / "conf"))
        self.start_switch()
        return self

    def start_switch(self) -> None:
        r = self.root
        args = [
            str(FREESWITCH),
            "-nonat",
            "-nf",
            "-nc",
            "-conf",
            str(r / "conf"),
            "-log",
            str(r / "log"),
            "-db",
            str(r / "db"),
            "-run",
            str(r / "run"),
            "-temp",
            str(r / "tmp"),
            "-storage",
            str(r / "storage"),
            "-recordings",
            str(r / "rec"),
            "-sounds",
            str(r / "sounds"),
            "-mod",
            str(FS_MODULES),
        ]
        self.fs = subprocess.Popen(
            args, cwd=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.fs.poll() is not None:
                raise AssertionError(f"FreeSWITCH exited ({self.fs.returncode}): {self.log_tail()}")
            status = self.api("sofia status")
            if status.count("RUNNING") >= 2:
                return
            time.sleep(0.3)
        raise AssertionError(f"FreeSWITCH not ready in {START_SECONDS} s: {self.log_tail()}")

    def start_serve(self) -> None:
        self._serve_logs += 1
        self.serve_log = self.root / f"serve-{self._serve_logs}.log"
        self.serve = subprocess.Popen(
            [*CCCTL, "-c", str(self.config), "serve"],
            cwd=self.root,
            stdout=self.serve_log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.serve.poll() is not None:
                raise AssertionError(
                    f"ccctl serve exited ({self.serve.returncode}): {self.serve_log.read_text()[-3000:]}"
                )
            if "inbound ESL connected" in self.serve_log.read_text():
                return
            time.sleep(0.2)
        raise AssertionError(f"ccctl serve not connected in {START_SECONDS} s: {self.serve_log.read_text()[-3000:]}")

    def stop_serve(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.serve is not None and self.serve.poll() is None:
            self.serve.send_signal(sig)
            try:
                self.serve.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()

    def stop(self) -> None:
        for run in self.sipps:
            run.stop()
        self.stop_serve()
        if self.fs is not None and self.fs.poll() is None:
            self.fs.terminate()
            try:
                self.fs.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.fs.kill()
                self.fs.wait()

    def __enter__(self) -> SwitchSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what users see --------------------------------------------------------------------

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "log" / "freeswitch.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no freeswitch.log)"

    def freeswitch_log(self) -> str:
        path = self.root / "log" / "freeswitch.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def serve_output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.root.glob("serve-*.log")))

    def calls(self) -> list[dict]:
        import json

        return json.loads(self.ccctl("calls", "list", "--json").stdout)

    def wait_for(self, condition, timeout: float = 30.0, what: str = "condition", every: float = 0.3):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not seen in {timeout} s; serve log tail:\n{self.serve_output()[-3000:]}")
            time.sleep(every)

    def wait_for_calls(self, count: int, timeout: float = 30.0) -> list[dict]:
        """The call records once `count` calls have ended (a running call's row reads in-progress)."""

        def enough():
            calls = self.calls()
            ended = [c for c in calls if c["disposition"] != "in-progress"]
            return calls if len(ended) >= count else None

        return self.wait_for(enough, timeout, f"{count} ended call record(s)")

    # -- people on the phone ---------------------------------------------------------------

    def _sipp(self, name: str, scenario: str, args: list[str]) -> SippRun:
        workdir = self.root / "sipp" / f"{name}-{len(self.sipps)}"
        workdir.mkdir(parents=True)
        (workdir / "scenario.xml").write_text(scenario)
        command = [
            sipp.SIPP,
            *args,
            "-sf",
            "scenario.xml",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-mp",
            str(next(self.media_ports)),
            "-trace_err",
            "-nostdin",
        ]
        process = subprocess.Popen(
            command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        run = SippRun(process, workdir, name)
        self.sipps.append(run)
        return run

    def voice(self, frequency: int, seconds: float = 120.0) -> str:
        path = self.voice_dir / f"voice-{frequency}.wav"
        if not path.exists():
            tone(path, seconds, frequency)
        return str(path)

    def patient(
        self,
        steps: list,
        caller: str = "0612345678",
        did: str = "7000",
        voice_hz: int = 0,
        telephone_event: bool = False,
        calls: int = 1,
        rate: float = 0,
        extra: list[str] | None = None,
        address: str = "",
    ) -> SippRun:
        """A patient (or `calls` of them at `rate` per second) calling `did` on the trunk profile (or `address`)."""
        scenario = sipp.patient_scenario(
            steps, telephone_event=telephone_event, voice=self.voice(voice_hz) if voice_hz else ""
        )
        args = [
            address or f"127.0.0.1:{self.ports['trunk_sip']}",
            "-s",
            did,
            "-m",
            str(calls),
            "-p",
            str(free_port()),
            "-key",
            "caller",
            caller,
        ]
        if rate:
            args += ["-r", str(rate), "-l", str(max(calls, 1))]
        return self._sipp("patient", scenario, args + (extra or []))

    def agent_phone(
        self,
        extension: str,
        answer: str = "answer",
        ring_ms: int = 500,
        talk_ms: int = 0,
        voice_hz: int = 0,
        calls: int = 1,
    ) -> SippRun:
        """An agent's softphone: registers `extension` on the agents profile, then takes `calls` INVITEs."""
        port = free_port()
        register = self._sipp(
            "register",
            sipp.register_scenario(extension, AGENTS_PASSWORD),
            [
                f"127.0.0.1:{self.ports['agents_sip']}",
                "-m",
                "1",
                "-p",
                str(port),
                "-key",
                "extension",
                extension,
                "-key",
                "domain",
                DOMAIN,
            ],
        )
        code = register.wait(20)
        assert code == 0, f"agent {extension} could not register: {register.errors()}"
        scenario = sipp.agent_phone_scenario(answer, ring_ms, talk_ms, self.voice(voice_hz) if voice_hz else "")
        phone = self._sipp(
            f"agent-{extension}", scenario, ["-m", str(calls), "-p", str(port), "-key", "extension", extension]
        )
        self.wait_for(
            lambda: (
                extension in self.api(f"sofia status profile agents reg {extension}@{DOMAIN}")
                or extension in self.api("sofia status profile agents reg")
            ),
            10,
            f"registration of {extension}",
        )
        return phone


def channel_levels(path: Path) -> list[float]:
    """RMS amplitude of each channel of an audio file (sox stat), to tell who was heard."""
    channels = int(subprocess.run(["soxi", "-c", str(path)], capture_output=True, text=True, check=True).stdout)
    levels = []
    for number in range(1, channels + 1):
        out = subprocess.run(["sox", str(path), "-n", "remix", str(number), "stat"], capture_output=True, text=True)
        match = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
        levels.append(float(match.group(1)) if match else 0.0)
    return levels


def add_cardio_queue(site: SwitchSite, no_answer_timeout: int, **settings: object) -> None:
    """The cardio queue (no wrap-up, no announcements, plus `settings`) and agent ann (1001), logged out."""
    values = {"wrapup_seconds": 0, "announce_every_seconds": 0, "no_answer_timeout": no_answer_timeout, **settings}
    pairs = [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]
    site.ccctl("queues", "add", "cardio", "--skills", "cardio", *pairs)
    site.ccctl("agents", "add", "ann", "--extension", "1001", "--skills", "cardio:5")
