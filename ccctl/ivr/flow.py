"""Loaded flows: immutable, versioned, and bound to the catalog they were checked with.

A running call holds its Flow (and through it the catalog of sub-flows and prompt
sets of the same load), so a reload never changes a call in progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ccctl.ivr.holidays import HolidayCalendar
from ccctl.ivr.nodes.base import Node
from ccctl.ivr.prompts import PromptSet
from ccctl.ivr.services import KbAnswers

SHARED_DIR = "shared"


@dataclass(frozen=True)
class FlowCatalog:
    """Everything one load of ivr_flows/ produced: flows by name, prompt sets, the prompts dir."""

    flows: Mapping[str, Flow]
    prompt_sets: Mapping[str, PromptSet]
    prompts_dir: Path
    generation: int = 0
    kb: KbAnswers | None = None  # the knowledge base the kb nodes were checked against and speak from

    def hotlines(self) -> list[str]:
        return sorted(name for name in self.flows if "/" not in name)


@dataclass(frozen=True)
class Flow:
    """One flow file: nodes by name, where it starts, its default language and calendar."""

    name: str  # path under flows_dir without .yaml: "main", "shared/complaint"
    source: str  # the file, as shown in errors
    digest: str  # of the file's text: tells versions apart in logs and `flow show`
    start: str
    nodes: Mapping[str, Node]
    language: str = "en"
    languages: tuple[str, ...] = ()
    description: str = ""
    calendar: HolidayCalendar | None = None
    catalog: FlowCatalog | None = field(default=None, compare=False, repr=False)

    @property
    def version(self) -> str:
        generation = self.catalog.generation if self.catalog else 0
        return f"{generation}-{self.digest}"

    @property
    def is_subflow(self) -> bool:
        return self.name.startswith(SHARED_DIR + "/")
