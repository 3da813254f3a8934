"""`ccctl web screenshots`: the wallboard, the workstation, the inbox and the ticket board in every language,
photographed by Chromium from a console of their own.

The console runs on a temporary SQLite database filled with made-up sample data (no switch, no real
patient): a call in progress, callers waiting, agents in several states, messages and tickets. Only the
pictures are written, into the folder asked for; nothing else of the checkout or of var/ is touched.
"""

from __future__ import annotations

import dataclasses
import secrets
import tempfile
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, add_queue
from ccctl.acd.engine import AcdEngine
from ccctl.channels.inbox import IncomingMessage, receive
from ccctl.config import AcdSettings, Settings
from ccctl.errors import UserError
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent
from ccctl.records.models.calls import Call, VoiceMessage
from ccctl.records.models.web import CallWrapUp
from ccctl.tickets.follow_up import file_voice_messages
from ccctl.tickets.service import assign_ticket, change_state, open_ticket
from ccctl.web.accounts import add_user

CHROMIUM = "/usr/bin/chromium"
LANGUAGES = ("en", "zh", "pl")
# (picture, who looks, path, what must be drawn before the picture is taken)
PAGES = (
    ("wallboard", "supervisor", "/wallboard", "#live-calls tbody tr"),
    ("workstation", "agent", "/workstation", "#last-calls tbody tr"),
    ("inbox", "agent", "/inbox", "#inbox-list tr[data-item]"),
    ("tickets", "supervisor", "/tickets", ".ticket"),
)
SAMPLE_PATIENTS = (("Maria", "Nowak", "+48600000001"), ("Li", "Wang", "+8613800000002"), ("John", "Smith", "+15550100"))


class ScreenshotError(UserError):
    """The pictures cannot be taken; str() names what is missing."""


def _silent_wav(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000)


def _people(url: str, password: str) -> list[int]:
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            add_user(db, "supervisor", "supervisor", password)
            add_user(db, "agent", "agent", password, agent="ola")
            return [
                add_patient(db, PatientData(given, family, [phone]), {}).id for given, family, phone in SAMPLE_PATIENTS
            ]
    finally:
        engine.dispose()


def _acd(url: str, patients: list[int], now: datetime) -> AcdEngine:
    """ola talks to the first patient, jan is in wrap-up, eva waits for a call; two callers wait."""
    for name, extension in (("ola", "1001"), ("jan", "1002"), ("eva", "1003")):
        add_agent(url, name, extension, {"cardio": 1, "general": 1})
    add_queue(url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    add_queue(url, "general", "longest-idle-agent", {"general": 1}, {})
    acd = AcdEngine(url, AcdSettings())
    talking = acd.enqueue("cardio", "sample-call-1", 0, patients[0]).entry_id
    acd.enqueue("cardio", "sample-call-2", 0, patients[1])
    acd.enqueue("general", "sample-call-3", 0, None)
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            ids = dict(db.execute(select(Agent.name, Agent.id)).all())
            states = {"ola": ("in_call", 95), "jan": ("wrapup", 20), "eva": ("idle", 300)}
            for name, (state, seconds) in states.items():
                since = now - timedelta(seconds=seconds)
                until = now + timedelta(minutes=5) if state == "wrapup" else None
                db.execute(update(Agent).where(Agent.id == ids[name]).values(
                    status="available", state=state, state_since=since, reserved_until=until))  # fmt: skip
            db.execute(update(QueueEntry).where(QueueEntry.id == talking).values(status="bridged", agent_id=ids["ola"]))
            for n, (minutes, code) in enumerate(((40, "resolved"), (25, "callback"), (12, "ticket"))):
                call, at = f"sample-earlier-{n}", now - timedelta(minutes=minutes)
                events = (
                    ("entered", at - timedelta(seconds=12)),
                    ("answered", at),
                    ("ended", at + timedelta(seconds=150 + 40 * n)),
                )
                for kind, when in events:
                    db.add(QueueEvent(at=when, queue="cardio", call_uuid=call, kind=kind, agent_id=ids["ola"],
                                      patient_id=patients[n]))  # fmt: skip
                db.add(CallWrapUp(call_uuid=call, agent="ola", code=code))
            midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
            for day, share in ((midnight, 1.0), (midnight - timedelta(days=7), 0.8)):
                for slot in range(32, 32 + 40):  # 08:00 to 18:00, busier late morning
                    for n in range(int(share * (3 + (slot % 12 == 0) * 2 + (40 <= slot < 48) * 3))):
                        started = day + timedelta(minutes=15 * slot + n)
                        if started < now:
                            db.add(Call(uuid=f"sample-{started.isoformat()}-{n}", hotline="main", started_at=started))
    finally:
        engine.dispose()
    return acd


def _written_work(url: str, settings: Settings, patients: list[int], folder: Path) -> None:
    """A web-form message, an e-mail and a voice message in the inbox; tickets in several states."""
    recording = folder / "voice-message.wav"
    _silent_wav(recording)
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            form = IncomingMessage(
                "web", "li.wang@example.org", "Web form", "Patient code: P000002\n\nCan I move my visit?"
            )
            form.verified = False
            receive(db, form)
            receive(db, IncomingMessage("email", "John Smith <john@example.org>", "Test results", "Are they ready?"))
            db.add(
                VoiceMessage(call_uuid="sample-call-9", patient_id=patients[0], path=str(recording), reason="complaint")
            )
            db.flush()
            file_voice_messages(db)
            now = datetime.now(UTC)
            for n, (category, state, owner, hours_ago) in enumerate(
                (
                    ("complaint", "new", "", 80),
                    ("request", "assigned", "ola", 5),
                    ("complaint", "in-progress", "jan", 30),
                    ("request", "waiting-for-patient", "eva", 50),
                    ("billing", "resolved", "ola", 10),
                )
            ):
                ticket = open_ticket(db, "agent", patients[n % 3], category, "sample", settings=settings.inbox,
                                     actor="supervisor", now=now - timedelta(hours=hours_ago))  # fmt: skip
                if owner:
                    assign_ticket(db, ticket, owner, "supervisor")
                if state not in ("new", "assigned"):
                    change_state(db, ticket, state, "supervisor")
    finally:
        engine.dispose()


def _shoot(base: str, password: str, out: Path, chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            for role in ("supervisor", "agent"):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(f"{base}/login")
                page.fill("#name", role)
                page.fill("#password", password)
                page.click("#login-button")
                page.wait_for_selector("#whoami")
                for language in LANGUAGES:
                    page.select_option("#language", language)
                    page.wait_for_selector(f"html[lang={language}]")
                    for picture, who, path, drawn in PAGES:
                        if who != role:
                            continue
                        page.goto(f"{base}{path}")
                        page.wait_for_selector(drawn)
                        target = out / f"{picture}-{language}.png"
                        page.screenshot(path=str(target), full_page=True)
                        written.append(target)
        finally:
            browser.close()
    return written


def take_screenshots(settings: Settings, out: Path, chromium: str = CHROMIUM) -> list[Path]:
    """Pictures of each page of PAGES in each language, as out/<page>-<language>.png; their paths."""
    from ccctl.serve.controller import Controller  # the controller imports the console: only when photographing

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise ScreenshotError("screenshots need Playwright (pip install playwright)") from None
    if not Path(chromium).exists():
        raise ScreenshotError(f"screenshots need Chromium at {chromium} (Debian package chromium, or --chromium)")
    out.mkdir(parents=True, exist_ok=True)
    password = f"Shot-{secrets.token_hex(8)}-9"
    with tempfile.TemporaryDirectory(prefix="ccctl-screenshots-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'console.db'}"
        upgrade(url)
        patients = _people(url, password)
        acd = _acd(url, patients, datetime.now(UTC))
        _written_work(url, settings, patients, folder)
        site = dataclasses.replace(
            settings,
            database=dataclasses.replace(settings.database, url=url),
            esl=dataclasses.replace(settings.esl, outbound_port=0, inbound_port=0),
            web=dataclasses.replace(settings.web, host="127.0.0.1", port=0, secret_key=secrets.token_hex(16)),
            recordings_dir=str(folder / "recordings"),
        )
        controller = Controller(site, record_sink=lambda record: None, connect_inbound=False, acd=acd)
        controller.start()
        try:
            host, port = controller.web_address
            return _shoot(f"http://{host}:{port}", password, out, chromium)
        finally:
            controller.stop(grace=1)
