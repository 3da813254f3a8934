"""The survey page in real headless Chromium: a supervisor picks the survey and the last 7 days and reads the
figures per question, agent and queue, the answers that crossed a rule with the ticket they opened, downloads
the CSV (audited, counts only); an agent gets 403."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient
from ccctl.serve.controller import Controller
from ccctl.surveys.model import Response
from ccctl.surveys.spec import load_survey
from ccctl.surveys.store import save_response

REPO = Path(__file__).resolve().parents[2]
SURVEY = REPO / "ivr_flows" / "surveys" / "after-call.yaml"


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db, db.begin():
            return work(db)
    finally:
        engine.dispose()


@pytest.fixture
def console(sqlite_url, tmp_path):
    """Three answered surveys this week (bob's low score opens a ticket, wei asks to be called back), one a month
    ago; a controller without a switch serving the console."""
    ids = seed(sqlite_url)
    flows = tmp_path / "flows"
    (flows / "surveys").mkdir(parents=True)
    shutil.copy(SURVEY, flows / "surveys")
    survey = load_survey(flows / "surveys" / "after-call.yaml")
    now = utc_now() - timedelta(minutes=1)

    def fill(db):
        codes = dict(db.execute(select(Patient.id, Patient.patient_code)).all())
        answered = [
            (
                Response(
                    "after-call", "c1", ids["anna"], {"score": 1, "resolved": 0, "call_me": 0}, "en", "bob", "cardio"
                ),
                now,
            ),
            (
                Response(
                    "after-call", "c2", ids["wei"], {"score": 4, "resolved": 1, "call_me": 1}, "zh", "bob", "cardio"
                ),
                now,
            ),
            (
                Response("after-call", "c3", None, {"score": 5, "resolved": 1, "call_me": 0}, "en", "ann", "general"),
                now,
            ),
            (
                Response("after-call", "c0", ids["anna"], {"score": 1}, "en", "bob", "cardio", completed=False),
                now - timedelta(days=30),
            ),
        ]
        opened = [save_response(db, survey, response, now=when) for response, when in answered]
        return codes, opened

    codes, _ = in_db(sqlite_url, fill)
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}", sqlite_url, {name: codes[ids[name]] for name in ("anna", "wei")}
    finally:
        controller.stop(grace=1)


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#whoami")


def cells(page, selector: str) -> list[list[str]]:
    return [
        [cell.inner_text().strip() for cell in row.query_selector_all("td")]
        for row in page.query_selector_all(selector)
    ]


def audit_rows(url: str) -> list[tuple[str, str, str]]:
    return in_db(
        url,
        lambda db: [
            (a.actor, a.action, a.detail)
            for a in db.scalars(
                select(AuditEntry).where(AuditEntry.action.like("survey report%")).order_by(AuditEntry.id)
            )
        ],
    )


def test_a_supervisor_reads_the_survey_figures_and_downloads_the_csv_and_an_agent_is_refused(console, browser_page):
    base, url, codes = console
    page = browser_page
    log_in(page, base, "super")
    page.click("#nav-surveys")
    page.wait_for_selector("#per-question")
    assert page.input_value("#survey") == "after-call"
    assert page.inner_text("#responses") == "3"  # the month-old answer is outside the last 7 days

    questions = cells(page, "#per-question tbody tr")
    assert [row[:5] for row in questions] == [
        ["score", "3", "3.33", "1", "-"],
        ["resolved", "3", "-", "-", "2"],
        ["call_me", "3", "-", "-", "1"],
    ]
    score_bars = {
        bar.get_attribute("data-key"): (bar.eval_on_selector("progress", "p => [p.value, p.max]"), bar.inner_text())
        for bar in page.query_selector_all('#per-question tr[data-question="score"] .key')
    }
    assert {key: value for key, (value, _) in score_bars.items()} == {
        "1": [1, 3],
        "2": [0, 3],
        "3": [0, 3],
        "4": [1, 3],
        "5": [1, 3],
    }
    resolved_bars = page.query_selector_all('#per-question tr[data-question="resolved"] .key')
    assert [bar.inner_text().split() for bar in resolved_bars] == [["yes", "2"], ["no", "1"]]
    assert cells(page, "#per-agent tbody tr")[:2] == [
        ["ann", "score", "1", "5.00", "0", "-"],
        ["ann", "resolved", "1", "-", "-", "1"],
    ]
    assert ["bob", "score", "2", "2.50", "1", "-"] in cells(page, "#per-agent tbody tr")
    assert ["general", "score", "1", "5.00", "0", "-"] in cells(page, "#per-queue tbody tr")
    assert ["cardio", "call_me", "2", "-", "-", "1"] in cells(page, "#per-queue tbody tr")

    crossed = cells(page, "#crossed tbody tr")
    assert [(row[1], row[2], row[3]) for row in crossed] == [
        (codes["wei"], "bob / cardio", "score=4, resolved=1, call_me=1"),
        (codes["anna"], "bob / cardio", "score=1, resolved=0, call_me=0"),
    ]
    assert crossed[0][4].startswith("Callback ") and crossed[1][4].startswith("Ticket ")
    assert audit_rows(url) == [("super", "survey report after-call", f"patients {', '.join(sorted(codes.values()))}")]

    page.click("#crossed a.ticket")
    page.wait_for_url("**/tickets/*")
    assert "score=1, resolved=no, call_me=no; rule 'score <= 2' crossed" in page.inner_text("main")
    page.go_back()

    page.select_option("#csv-by", "agent")
    with page.expect_download() as download:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["agent", "question", "kind", "answers", "average", "low", "yes"] + [f"key_{k}" for k in range(6)]
    assert ["bob", "score", "scale", "2", "2.50", "1", "0", "0", "1", "0", "0", "1", "0"] in rows
    assert ["ann", "call_me", "call_me", "1", "", "0", "0", "1", "0", "0", "0", "0", "0"] in rows
    assert not any(code in cell for row in rows for cell in row for code in codes.values())
    export = audit_rows(url)[-1]
    assert (
        export[:2] == ("super", "survey report export") and "survey after-call" in export[2] and "by agent" in export[2]
    )

    page.select_option("#language", "zh")
    page.wait_for_selector("text=满意度调查结果")
    assert "下载 CSV" in page.inner_text("#survey-csv")

    agent = page.context.browser.new_context().new_page()
    log_in(agent, base, "agent1")
    assert agent.goto(f"{base}/surveys").status == 403
    assert agent.goto(f"{base}/surveys/report.csv?survey=after-call&by=question").status == 403
    assert agent.query_selector("#nav-surveys") is None
    agent.context.close()
