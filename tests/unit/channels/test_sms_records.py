"""SMS records without Kannel: text decoding, opt-out keywords, delivery reports, the web endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.sms_records import IncomingSms, decode_text, file_incoming, is_opted_out, record_delivery
from ccctl.channels.sms_web import blueprint
from ccctl.config import Settings
from ccctl.records.database import make_engine
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.inbox import InboxItem


@dataclass
class WebContext:
    settings: Settings
    engine: object

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            yield db


@pytest.fixture
def engine(db_url: str):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine):
    app = Flask("sms-unit")
    app.extensions["ccctl"] = WebContext(Settings(), engine)
    app.register_blueprint(blueprint)
    return app.test_client()


def test_ucs2_and_utf8_texts_decode():
    assert decode_text(IncomingSms("1", "2", "été".encode("utf-16-be"), coding="2", charset="UTF-16BE")) == ("été", "")
    assert decode_text(IncomingSms("1", "2", "Ça va".encode(), coding="0", charset="UTF-8")) == ("Ça va", "")


def test_broken_text_is_kept_with_replacement_characters_and_a_problem():
    text, problem = decode_text(IncomingSms("1", "2", b"ok \xff", coding="0", charset="UTF-8"))
    assert text == "ok \ufffd"
    assert problem == "SMS text is not valid UTF-8 (coding 0): unreadable characters replaced"


def test_stop_then_start_changes_the_opt_out(engine):
    settings = Settings()
    with Session(engine) as db, db.begin():
        file_incoming(db, settings, IncomingSms("+33 6 11 11 11 11", "7000", b"stop please", kannel_id="a"))
        assert is_opted_out(db, "+33611111111")
        file_incoming(db, settings, IncomingSms("+33611111111", "7000", b"START", kannel_id="b"))
        assert not is_opted_out(db, "+33611111111")
        bodies = db.scalars(select(InboxItem.body).order_by(InboxItem.id)).all()
    assert bodies == ["stop please", "START"]


def test_a_later_report_never_moves_a_delivered_message_back(engine):
    with Session(engine) as db, db.begin():
        db.add(SmsMessage(recipient="+331", body="x", status="sent", message_id="m1"))
        db.flush()
        assert record_delivery(db, "m1", 1).status == "delivered"
        late = record_delivery(db, "m1", 8)  # "submitted to the SMSC" arriving after "delivered"
        assert (late.status, late.dlr_status) == ("delivered", 1)
        assert record_delivery(db, "nope", 1) is None


def test_a_failed_delivery_is_recorded_with_its_report(engine):
    with Session(engine) as db, db.begin():
        db.add(SmsMessage(recipient="+331", body="x", status="sent", message_id="m2"))
        db.flush()
        message = record_delivery(db, "m2", 16)
        assert (message.status, message.error) == ("failed", "delivery report 16: not delivered")


def test_an_sms_without_sender_is_filed_with_a_problem(client, engine):
    response = client.get("/channels/sms/incoming?from=&to=7000&text=Hello&coding=0&charset=UTF-8&id=k1")
    assert response.status_code == 200 and response.data == b""
    with Session(engine) as db:
        item = db.scalars(select(InboxItem)).one()
    assert (item.body, item.problem) == ("Hello", "SMS without a sender number")


def test_raw_bytes_of_the_query_reach_the_decoder(client, engine):
    client.get("/channels/sms/incoming?from=%2B3361&to=7000&text=%00%E9&coding=2&charset=UTF-16BE&id=k2")
    with Session(engine) as db:
        assert db.scalars(select(InboxItem.body)).one() == "é"


def test_the_endpoints_refuse_other_addresses(client):
    response = client.get("/channels/sms/dlr?id=x&status=1", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 403


def test_a_report_for_an_unknown_message_is_404_and_a_bad_status_400(client):
    assert client.get("/channels/sms/dlr?id=zz&status=1").status_code == 404
    assert client.get("/channels/sms/dlr?id=zz&status=x").status_code == 400
