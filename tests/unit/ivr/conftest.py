"""Fixtures for flow tests: the shipped flows loaded with in-memory services and a fixed clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from memory_services import Member, MemoryServices

from ccctl.ivr.registry import FlowRegistry
from ccctl.ivr.services import PatientView

REPO = Path(__file__).resolve().parents[3]
FLOWS_DIR = REPO / "ivr_flows"
FIXTURES = REPO / "tests" / "fixtures" / "flows"
OPEN = dt.datetime(2026, 3, 10, 10, 0)  # a Tuesday morning
NIGHT = dt.datetime(2026, 3, 10, 22, 0)
LABOUR_DAY = dt.datetime(2026, 5, 1, 10, 0)  # a Friday, in the holiday calendar

MEMBER_PHONE = "13900000042"
MEMBER_NUMBER = "70031337"
PIN = "918273"
ANNA = PatientView(
    id=42,
    patient_code="P000042",
    display_name="Anna Nowak",
    member=True,
    specialty="cardiology",
    language="pl",
    member_number=MEMBER_NUMBER,
)


@pytest.fixture
def services() -> MemoryServices:
    return MemoryServices(
        members=[Member(ANNA, MEMBER_PHONE, PIN)],
        agents={
            skill: f"user/10{i:02d}@cc.local"
            for i, skill in enumerate(
                [
                    "registration",
                    "cardiology",
                    "pediatrics",
                    "specialist",
                    "results",
                    "follow_up",
                    "complaints",
                    "operator",
                ]
            )
        },
    )


def make_registry(
    services: MemoryServices, now: dt.datetime, tmp_path: Path, flows_dir: Path = FLOWS_DIR
) -> FlowRegistry:
    return FlowRegistry(flows_dir, services=services, clock=lambda: now, recordings_dir=tmp_path / "recordings")


@pytest.fixture
def registry(services: MemoryServices, tmp_path: Path) -> FlowRegistry:
    return make_registry(services, OPEN, tmp_path)
