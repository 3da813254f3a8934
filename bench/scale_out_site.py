"""The processes `ccctl bench scale-out` starts on loopback: a throwaway PostgreSQL, FreeSWITCH nodes from
`ccctl fs render` each with its `ccctl serve`, Kamailio from `ccctl fs render --kamailio`, SIPp patients.

Everything lives in one temporary directory and binds free ports; every process is started in its own
session and stopped (then killed) by the bench, whatever happens.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
import wave
from pathlib import Path

import yaml

CCCTL = [sys.executable, "-c", "from ccctl.cli import main; main()"]
PG_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
START_SECONDS = 40.0
ESL_PASSWORD = "bench-esl-secret"
DOMAIN = "cc.bench"
SIPP_MEDIA_PORT = 45000  # above every switch's RTP range


class MissingTool(Exception):
    """A program the bench needs is not installed; str() names it and where it was looked for."""


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port


def kamailio_path() -> str:
    return shutil.which("kamailio") or "/usr/sbin/kamailio"


def check_tools(freeswitch_home: Path, with_postgres: bool) -> None:
    """MissingTool naming the first program that is not there."""
    if not (freeswitch_home / "bin" / "freeswitch").is_file():
        raise MissingTool(f"no FreeSWITCH at {freeswitch_home / 'bin' / 'freeswitch'} (--freeswitch-home)")
    if not Path(kamailio_path()).is_file():
        raise MissingTool("no kamailio (Debian's kamailio package; scripts/install.sh --test installs it)")
    if shutil.which("sipp") is None:
        raise MissingTool("no sipp (Debian's sip-tester; scripts/install.sh --test installs it)")
    if with_postgres and not (PG_BIN_DIR / "pg_ctl").is_file():
        raise MissingTool(f"no PostgreSQL server in {PG_BIN_DIR} (install postgresql-15, or give --database)")


def stop_process(process: subprocess.Popen | None, timeout: float = 15.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ThrowawayPostgres:
    """initdb + pg_ctl in `root` on a free port, trust auth, no fsync; as root it runs as the postgres user."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        root.mkdir(parents=True, exist_ok=True)
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            root.parent.chmod(0o755)  # the postgres user must reach its folder inside the bench's
            os.chown(root, user.pw_uid, user.pw_gid)
            self._prefix = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--"]
        data = root / "data"
        self._run(PG_BIN_DIR / "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {root} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200"
        self._run(
            PG_BIN_DIR / "pg_ctl", "-D", str(data), "-l", str(root / "postgresql.log"), "-w", "-o", options, "start"
        )

    def _run(self, program: Path, *args: str) -> None:
        done = subprocess.run([*self._prefix, str(program), *args], cwd=self.root, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{program.name} failed: {(done.stderr or done.stdout).strip()[-300:]}")

    def create(self, name: str) -> str:
        """A new empty database `name`; its URL."""
        self._run(PG_BIN_DIR / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(PG_BIN_DIR / "pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "stop")
        except RuntimeError:
            pass


def _silence(path: Path, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * rate)


class Node:
    """One FreeSWITCH from `ccctl fs render` (switchname `name`) and, when started, its `ccctl serve`."""

    def __init__(self, root: Path, name: str, database_url: str, flow: str, rtp_ports: str, fs_home: Path) -> None:
        self.root, self.name, self.fs_home = root, name, fs_home
        self.ports = {key: free_port() for key in ("trunk_sip", "agents_sip", "esl_in", "esl_out", "web")}
        for folder in ("conf", "log", "db", "run", "tmp", "storage", "rec", "flows", "recordings", "faxes"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        for rate in (8000, 16000):
            _silence(root / "sounds" / "music" / str(rate) / "moh.wav", rate)
        (root / "flows" / "main.yaml").write_text(flow)
        p = self.ports
        self.settings = {
            "database": {"url": database_url},
            "esl": {
                "outbound_host": "127.0.0.1",
                "outbound_port": p["esl_out"],
                "inbound_host": "127.0.0.1",
                "inbound_port": p["esl_in"],
                "password": ESL_PASSWORD,
                "reconnect_seconds": 0.5,
            },
            "web": {"host": "127.0.0.1", "port": p["web"], "secret_key": "bench-scale-out"},
            "freeswitch": {
                "node_name": name,
                "domain": DOMAIN,
                "sip_ip": "127.0.0.1",
                "agents_sip_port": p["agents_sip"],
                "trunk_sip_port": p["trunk_sip"],
                "trunk_acl": ["127.0.0.1/32"],
                "agent_extensions": "1000-1019",
                "agents_password": "bench-agents-secret",
                "sounds_dir": str(root / "sounds"),
                "rtp_ports": rtp_ports,
            },
            "hotlines": [{"name": "main", "did": "7000", "flow": "main", "language": "en"}],
            "fax": {"dids": ["7900"], "faxes_dir": str(root / "faxes")},
            "flows_dir": str(root / "flows"),
            "recordings_dir": str(root / "recordings"),
            "log_level": "INFO",
        }
        self.config = root / "ccctl.yaml"
        self.write_settings()
        self.fs: subprocess.Popen | None = None
        self.serve: subprocess.Popen | None = None

    @property
    def trunk(self) -> str:
        return f"127.0.0.1:{self.ports['trunk_sip']}"

    def write_settings(self) -> None:
        self.config.write_text(yaml.safe_dump(self.settings, sort_keys=False))

    def ccctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*CCCTL, "-c", str(self.config), *args], cwd=self.root, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"ccctl {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
        return result

    def fs_api(self, command: str) -> str:
        fs_cli = self.fs_home / "bin" / "fs_cli"
        args = [str(fs_cli), "-H", "127.0.0.1", "-P", str(self.ports["esl_in"]), "-p", ESL_PASSWORD, "-x", command]
        return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout

    def sessions_per_second(self) -> int:
        """The switch's own new-channels-a-second limit, as its `status` reports it (0 when it does not)."""
        found = re.search(r"session\(s\) per Sec out of max (\d+)", self.fs_api("status"))
        return int(found[1]) if found else 0

    def start_switch(self) -> None:
        self.ccctl("fs", "render", "--out", str(self.root / "conf"))
        r = self.root
        folders = ("conf", "log", "db", "run", "temp", "storage", "recordings", "sounds")
        paths = {"temp": r / "tmp", "recordings": r / "rec"}
        args = [str(self.fs_home / "bin" / "freeswitch"), "-nonat", "-nf", "-nc"]
        for folder in folders:
            args += [f"-{folder}", str(paths.get(folder, r / folder))]
        args += ["-mod", str(self.fs_home / "lib" / "freeswitch" / "mod")]
        self.fs = subprocess.Popen(
            args, cwd=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_SECONDS
        while self.fs_api("sofia status").count("RUNNING") < 2:
            if self.fs.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"FreeSWITCH {self.name} did not start (see {r / 'log' / 'freeswitch.log'})")
            time.sleep(0.3)

    def start_serve(self) -> None:
        log = (self.root / "serve.log").open("w")
        self.serve = subprocess.Popen(
            [*CCCTL, "-c", str(self.config), "serve"],
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def status(self) -> dict:
        result = self.ccctl("status", "--json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 else {}

    def wait_connected(self, nodes: int) -> None:
        """Until this node's serve is connected to all `nodes` switches it drives."""
        deadline = time.monotonic() + START_SECONDS
        while True:
            listed = self.status().get("esl", {}).get("nodes", [])
            if len(listed) == nodes and all(n.get("status") == "connected" for n in listed):
                return
            if (self.serve is not None and self.serve.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"ccctl serve beside {self.name} not connected (see {self.root / 'serve.log'})")
            time.sleep(0.3)

    def stop(self) -> None:
        stop_process(self.serve, 20)
        stop_process(self.fs)


class Kamailio:
    """Kamailio in the foreground from `ccctl fs render --kamailio`, spreading calls over `nodes`."""

    def __init__(self, root: Path, nodes: list[Node], database_url: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        settings = {
            # the agents' registrar reads their SIP digests from the controllers' (migrated) database
            "database": {"url": database_url},
            "freeswitch": {
                "domain": DOMAIN,
                "agents_password": "bench-agents-secret",
                "agent_extensions": "1000-1019",
                "agents_credentials": str(root / "agent-sip.json"),
            },
            "esl": {"password": ESL_PASSWORD},
            "sip_front": {
                "listen": self.address,
                "probe_seconds": 1,
                "failover_seconds": 1,
                "nodes": [{"name": node.name, "address": node.trunk} for node in nodes],
            },
        }
        (root / "ccctl.yaml").write_text(yaml.safe_dump(settings))
        render = [*CCCTL, "-c", str(root / "ccctl.yaml"), "fs", "render", "--kamailio", "--out", str(root / "conf")]
        done = subprocess.run(render, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ccctl fs render --kamailio failed: {done.stderr.strip()[-300:]}")
        log = root / "kamailio.log"
        self.process = subprocess.Popen(
            [kamailio_path(), "-f", str(root / "conf" / "kamailio.cfg"), "-DD", "-E", "-P", str(root / "kamailio.pid")],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while f"127.0.0.1:{self.port}" not in subprocess.run(["ss", "-uln"], capture_output=True, text=True).stdout:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Kamailio did not start (see {log})")
            time.sleep(0.2)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.process, 10)


PATIENT_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="patient">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "0612345678" <sip:0612345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      Contact: <sip:0612345678@[local_ip]:[local_port]>
      Max-Forwards: 70
      CSeq: 1 INVITE
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=sendrecv
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true" rtd="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "0612345678" <sip:0612345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      Contact: <sip:0612345678@[local_ip]:[local_port]>
      Max-Forwards: 70
      CSeq: 1 ACK
      Content-Length: 0
    ]]></send>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>
</scenario>
"""


def run_patients(workdir: Path, address: str, rate: float, calls: int, timeout: float) -> dict:
    """SIPp calling DID 7000 at `address`, `rate` new calls/s until `calls` were placed: placed, ok, failed."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "patient.xml").write_text(PATIENT_SCENARIO)
    media = SIPP_MEDIA_PORT + free_port() % 400 * 40
    args = [shutil.which("sipp") or "sipp", address, "-sf", "patient.xml", "-s", "7000", "-i", "127.0.0.1"]
    args += ["-p", str(free_port()), "-mi", "127.0.0.1", "-mp", str(media), "-r", f"{rate:g}", "-m", str(calls)]
    args += ["-l", str(max(10, int(rate * 10))), "-recv_timeout", "30000", "-trace_stat", "-fd", "1", "-nostdin"]
    process = subprocess.Popen(
        args, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return _sipp_counts(workdir, calls)


def _sipp_counts(workdir: Path, calls: int) -> dict:
    """Placed, successful and failed calls from SIPp's last statistics line (-trace_stat)."""
    rows = [line.split(";") for path in workdir.glob("*.csv") for line in path.read_text().splitlines() if line]
    if len(rows) < 2:
        return {"placed": 0, "ok": 0, "failed": calls}
    header, last = rows[0], rows[-1]
    value = {name: last[i] for i, name in enumerate(header) if i < len(last)}
    ok, failed = int(value.get("SuccessfulCall(C)", 0)), int(value.get("FailedCall(C)", 0))
    placed = int(value.get("TotalCallCreated", ok + failed))
    return {"placed": placed, "ok": ok, "failed": failed + max(0, placed - ok - failed)}
