"""Survey results by question, agent or queue: counts, averages and the spread of keys; counts only, no patients.

A pure function over stored answers, so the same rows give the table, the JSON and the CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

from ccctl.surveys.model import Survey
from ccctl.surveys.store import StoredAnswer

GROUPINGS = ("question", "agent", "queue")
LOW_SCORE = 2  # a scale answer at or under this counts as low


@dataclass(frozen=True)
class ReportRow:
    group: str  # the agent or queue ("" when grouped by question only; "-" for answers without one)
    question: str
    kind: str
    answers: int
    average: float | None  # scale questions
    low: int  # scale answers <= LOW_SCORE
    yes: int  # yes_no and call_me answers that were yes
    spread: dict[int, int]  # key value -> how many


def build_report(survey_name: str, answers: list[StoredAnswer], by: str, survey: Survey | None) -> list[ReportRow]:
    kinds = {q.name: q.kind for q in survey.questions} if survey is not None else {}
    order = {name: index for index, name in enumerate(kinds)}
    groups: dict[tuple[str, str], list[int]] = {}
    for answer in answers:
        group = "" if by == "question" else (getattr(answer, by) or "-")
        groups.setdefault((group, answer.question), []).append(answer.value)
    rows = []
    for (group, question), values in sorted(groups.items(), key=lambda item: (item[0][0], order.get(item[0][1], 99))):
        kind = kinds.get(question, "scale")
        scale = kind == "scale"
        spread: dict[int, int] = {}
        for value in values:
            spread[value] = spread.get(value, 0) + 1
        rows.append(
            ReportRow(
                group=group,
                question=question,
                kind=kind,
                answers=len(values),
                average=round(sum(values) / len(values), 2) if scale else None,
                low=sum(1 for v in values if v <= LOW_SCORE) if scale else 0,
                yes=0 if scale else sum(1 for v in values if v == 1),
                spread=dict(sorted(spread.items())),
            )
        )
    return rows


def report_data(survey_name: str, by: str, responses: int, rows: list[ReportRow]) -> dict:
    return {"survey": survey_name, "by": by, "responses": responses, "rows": [asdict(row) for row in rows]}


def report_csv(by: str, rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ([] if by == "question" else [by]) + ["question", "kind", "answers", "average", "low", "yes"]
    writer.writerow(header + [f"key_{value}" for value in range(0, 6)])
    for row in rows:
        cells = ([] if by == "question" else [row.group]) + [
            row.question,
            row.kind,
            row.answers,
            "" if row.average is None else f"{row.average:.2f}",
            row.low,
            row.yes,
        ]
        writer.writerow(cells + [row.spread.get(value, 0) for value in range(0, 6)])
    return out.getvalue()


def table_rows(by: str, rows: list[ReportRow]) -> tuple[list[str], list[list]]:
    headers = ([] if by == "question" else [by.upper()]) + ["QUESTION", "ANSWERS", "AVERAGE", "LOW", "YES", "KEYS"]
    body = []
    for row in rows:
        keys = " ".join(f"{value}:{count}" for value, count in row.spread.items())
        body.append(
            ([] if by == "question" else [row.group])
            + [
                row.question,
                row.answers,
                "-" if row.average is None else f"{row.average:.2f}",
                row.low if row.kind == "scale" else "-",
                "-" if row.kind == "scale" else row.yes,
                keys,
            ]
        )
    return headers, body
