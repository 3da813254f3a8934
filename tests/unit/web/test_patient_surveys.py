"""The patient's page and API show their survey answers, read under the same audited view of the record."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session
from web_site import console, log_in, seed

from ccctl.records.database import make_engine
from ccctl.surveys.model import Question, Response, Survey
from ccctl.surveys.store import save_response

SURVEY = Survey("after-call", ["en"], [Question("score", "scale", {"en": "Rate us"})])


def test_the_patient_page_lists_the_survey_answers(sqlite_url):
    ids = seed(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        response = Response("after-call", "call-9", ids["anna"], {"score": 4}, "en", agent="bob", queue="cardio")
        save_response(session, SURVEY, response, now=datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
        session.commit()
    engine.dispose()
    app, _ = console(sqlite_url)
    client = app.test_client()
    log_in(client, "admin")
    page = client.get(f"/patients/{ids['anna']}").get_data(as_text=True)
    assert "<h2>Surveys</h2>" in page and "after-call · 2026-12-08T10:00:00" in page
    assert "bob · cardio · score=4</li>" in page
    [shown] = client.get(f"/api/v1/patients/{ids['anna']}").json["surveys"]
    assert (shown["survey"], shown["answers"], shown["agent"], shown["completed"]) == (
        "after-call",
        {"score": 4},
        "bob",
        True,
    )
    other = client.get(f"/patients/{ids['wei']}").get_data(as_text=True)
    assert "<h2>Surveys</h2>" not in other
