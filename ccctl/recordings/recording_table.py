"""The table `ccctl recordings list` prints: one line per recording, newest first.

Shows the patient code only (never a name or number), the agent, queue, length and archive state.
"""

from __future__ import annotations

HEADERS = ("started (UTC)", "call uuid", "length", "agent", "queue", "patient", "archive")


def _length(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def _archive(row: dict) -> str:
    return f"{row['archive_state']} (failing: {row['archive_error']})" if row["archive_error"] else row["archive_state"]


def format_recordings(rows: list[dict]) -> str:
    if not rows:
        return "no recordings"
    cells = [
        (
            row["started_at"][:19].replace("T", " "),
            row["call_uuid"],
            _length(row["duration_seconds"]),
            row["agent"] or "-",
            row["queue"] or "-",
            row["patient"] or "-",
            _archive(row),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [HEADERS, *cells]) for i in range(len(HEADERS))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in [HEADERS, *cells]
    ]
    return "\n".join(lines)
