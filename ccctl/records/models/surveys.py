"""Survey responses: one row per survey a patient was asked, one row per answered question.

A response names where it came from (the agent and queue of the call it followed, or the campaign that
called) so reports can be cut by question, agent and queue; what a rule opened is kept beside it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_survey_at", "survey", "answered_at"),
        Index("ix_survey_responses_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey: Mapped[str] = mapped_column(String(64))
    call_uuid: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    campaign: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    answered_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed: Mapped[bool] = mapped_column(default=True)  # False: the patient hung up or stopped keying
    # what the rules opened: "ticket:12", "callback:34" (comma-separated), "" when nothing crossed
    escalated: Mapped[str] = mapped_column(String(200), default="")


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(32))
    value: Mapped[int]
