"""The campaign webhook: a JSON POST to the campaign's `webhook:` URL for every target that is done, so the
hospital's systems learn each outcome (a visit confirmed or cancelled, a patient reached or not) as it happens.

The body names the patient by their code and the hospital's identifier only, never by name or number. A
post the server does not answer with 2xx is tried again later, waiting longer each time, up to MAX_TRIES;
each target's row in campaign_webhook_posts says how far it got, so a restart sends nothing twice that
was delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import yaml
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from ccctl.campaigns.outcomes import target_rows
from ccctl.config import Settings
from ccctl.records.database import make_engine
from ccctl.records.models.base import utc_now
from ccctl.records.models.campaigns import Campaign, CampaignTarget, CampaignWebhookPost

log = logging.getLogger("ccctl.campaigns")

CHECK_SECONDS = 15.0
POST_TIMEOUT_SECONDS = 10.0
FIRST_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 3600.0
MAX_TRIES = 12  # about seven hours of tries in all
BATCH = 100  # targets posted per campaign per pass


@dataclass(frozen=True)
class Answer:
    delivered: bool
    status: str  # the HTTP status, or the error's name


Post = Callable[[str, dict], Answer]


def http_post(url: str, body: dict) -> Answer:
    try:
        answer = requests.post(url, json=body, timeout=POST_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        return Answer(False, type(exc).__name__)
    return Answer(200 <= answer.status_code < 300, str(answer.status_code))


def retry_after(tries: int) -> timedelta:
    """30 s after the first failed try, doubling, at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (tries - 1), MAX_RETRY_SECONDS))


def body_of(campaign: Campaign, row: dict, now: datetime) -> dict:
    """What the hospital's system is told of one finished target."""
    fields = {key: value for key, value in row.items() if key != "target_id"}
    # contact_id stays the same on every try: a server that got a post we timed out on can see it twice
    return {"campaign": campaign.name, "kind": campaign.kind, "contact_id": row["target_id"], **fields,
            "sent_at": now.isoformat()}  # fmt: skip


def _webhook_of(campaign: Campaign) -> str:
    """The campaign's webhook URL from its text as added (checked then by load_spec), else ""."""
    if "webhook" not in campaign.source_text:
        return ""
    try:
        document = yaml.safe_load(campaign.source_text)
    except yaml.YAMLError:
        return ""
    url = document.get("webhook") if isinstance(document, dict) else None
    return url.strip() if isinstance(url, str) else ""


def _due(session: Session, campaign_id: int, now: datetime) -> list[int]:
    """Done targets not delivered yet whose next try has come (or that were never tried)."""
    query = (
        select(CampaignTarget.id)
        .outerjoin(CampaignWebhookPost, CampaignWebhookPost.target_id == CampaignTarget.id)
        .where(
            CampaignTarget.campaign_id == campaign_id,
            CampaignTarget.state == "done",
            or_(
                CampaignWebhookPost.id.is_(None),
                (CampaignWebhookPost.delivered_at.is_(None))
                & (CampaignWebhookPost.tries < MAX_TRIES)
                & (CampaignWebhookPost.next_try_at <= now),
            ),
        )
        .order_by(CampaignTarget.id)
        .limit(BATCH)
    )
    return list(session.scalars(query))


def post_finished(engine: Engine, now: datetime, post: Post = http_post) -> int:
    """One pass over every campaign with a webhook: post its due targets; how many were delivered."""
    with Session(engine) as session:
        campaigns = [(c, _webhook_of(c)) for c in session.scalars(select(Campaign).order_by(Campaign.id))]
        work = [
            (campaign, url, target_rows(session, campaign, ids))
            for campaign, url in campaigns
            if url and (ids := _due(session, campaign.id, now))
        ]
    delivered = 0
    for campaign, url, rows in work:
        for row in rows:
            answer = post(url, body_of(campaign, row, now))  # outside any transaction: the server may be slow
            _record(engine, campaign.id, row["target_id"], answer, now)
            delivered += answer.delivered
            if not answer.delivered:
                log.warning("campaign %s webhook: target %d not delivered (%s)", campaign.name, row["target_id"],
                            answer.status)  # fmt: skip
    return delivered


def _record(engine: Engine, campaign_id: int, target_id: int, answer: Answer, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        row = session.scalars(select(CampaignWebhookPost).where(CampaignWebhookPost.target_id == target_id)).first()
        if row is None:
            row = CampaignWebhookPost(target_id=target_id, campaign_id=campaign_id, tries=0)
            session.add(row)
        row.tries += 1
        row.last_status = answer.status[:32]
        if answer.delivered:
            row.delivered_at = now
        else:
            row.next_try_at = now + retry_after(row.tries)


def post_forever(settings: Settings, clock: Callable[[], datetime] = utc_now) -> None:
    """`ccctl serve`'s job: a pass every CHECK_SECONDS."""
    import gevent

    engine = make_engine(settings.database.url)
    while True:
        try:
            post_finished(engine, clock())
        except Exception as exc:  # a busy database: the next pass tries again
            log.warning("campaign webhooks not posted: %s", type(exc).__name__)
        gevent.sleep(CHECK_SECONDS)
