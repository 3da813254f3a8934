"""Outbound care campaigns: the campaign (its YAML kept as loaded), one target row per patient, every
contact attempt with its reason and outcome, and per-channel consent.

A target is claimed with a compare-and-set UPDATE on its state before it is dialled, so two processes
(or one restarted) never call the same patient for the same attempt. SMS consent is not copied here:
the STOP keyword's row in sms_opt_outs is the SMS opt-out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now

CAMPAIGN_STATES = ("draft", "running", "paused", "stopped")
# waiting: due at next_attempt_at; dialing: claimed, the call is being placed; talking: answered, the
# flow runs; previewing: reserved for an agent of a preview campaign (its campaign_previews row says how
# far); done: reached (or its last channel used); skipped: no channel may be used
TARGET_STATES = ("waiting", "dialing", "talking", "previewing", "done", "skipped")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="reminder")  # reminder, notification, survey
    # the YAML file as added (the campaign runs on this text, not on later edits of the file)
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    daily_cap: Mapped[int] = mapped_column(default=0)
    max_concurrent: Mapped[int] = mapped_column(default=1)
    calls_per_second: Mapped[float] = mapped_column(default=1.0)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class CampaignTarget(Base):
    __tablename__ = "campaign_targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "patient_id"),
        Index("ix_campaign_targets_campaign_id_state_next_attempt_at", "campaign_id", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    # the visit a reminder is about (targets from an appointments range)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    channel: Mapped[str] = mapped_column(String(8), default="voice")  # the channel of the next attempt
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    voice_attempts: Mapped[int] = mapped_column(default=0)
    last_outcome: Mapped[str] = mapped_column(String(32), default="")
    claimed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class ContactAttempt(Base):
    """One call, SMS or e-mail to a campaign's patient: why (reason), on which channel, what came of it."""

    __tablename__ = "contact_attempts"
    __table_args__ = (Index("ix_contact_attempts_campaign_id_started_at", "campaign_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("campaign_targets.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # voice, sms, email
    reason: Mapped[str] = mapped_column(String(128), default="")
    # dialing, answered, confirmed, cancelled, agent, busy, no_answer, machine, failed, queued, opted_out
    outcome: Mapped[str] = mapped_column(String(32), default="")
    call_uuid: Mapped[str] = mapped_column(String(64), default="")
    hangup_cause: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]


class ContactConsent(Base):
    """A patient's opt-out of one channel (voice, email) by keypad, form or staff; SMS: see sms_opt_outs."""

    __tablename__ = "contact_consents"
    __table_args__ = (UniqueConstraint("patient_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    opted_out_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str] = mapped_column(String(32), default="")  # keypad, form, staff:<user>


class CampaignWebhookPost(Base):
    """A finished target told to the campaign's webhook: tried until the hospital's server answers 2xx."""

    __tablename__ = "campaign_webhook_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("campaign_targets.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utc_now)
    delivered_at: Mapped[datetime | None]
    # the server's HTTP status, or the name of the error when there was no answer
    last_status: Mapped[str] = mapped_column(String(32), default="")


class CampaignPreview(Base):
    """A patient of a preview campaign reserved for one agent: shown on their workstation until they call or
    skip, or until expires_at (then back to the list). One row per agent and per target at most: the unique
    keys are the claim, so two processes never reserve one agent twice or one patient for two agents."""

    __tablename__ = "campaign_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("campaign_targets.id", ondelete="CASCADE"), unique=True)
    agent: Mapped[str] = mapped_column(String(64), unique=True)
    # reserved: on the agent's screen; calling: the agent pressed Call (the ACD dials the patient for them)
    state: Mapped[str] = mapped_column(String(16), default="reserved")
    reserved_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id", ondelete="SET NULL"))
    # the agent-pinned callback entry the ACD dials the patient through (queue_entries.id)
    entry_id: Mapped[int | None]
