"""ESL event parsing: ccctl.esl.protocol against greenswitch's ESLEvent, same frames, same run.

Frames are the real FreeSWITCH 1.10 events of the shared transcripts. Two
workloads: what a call controller reads from each event (name, uuid, a few
headers and variables), and a full decode of every header.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from greenswitch.esl import ESLEvent

from ccctl.esl.protocol import parse_event_plain

ROOT = Path(__file__).resolve().parent.parent
CONTROLLER_READS = ("Event-Name", "Unique-ID", "Application", "Application-UUID", "Answer-State")


def _event_bodies() -> list[bytes]:
    sys.path.insert(0, str(ROOT / "tests"))
    import transcript  # the tests' reader of the recorded sessions

    bodies = []
    for name in transcript.all_names():
        for section in transcript.load(name).sections.values():
            for frame in section.received():
                head, _, body = frame.partition(b"\n\n")
                if b"text/event-plain" in head and body:
                    bodies.append(body)
    return bodies


def _ours_controller(bodies: list[bytes]) -> None:
    for body in bodies:
        event = parse_event_plain(body)
        for name in CONTROLLER_READS:
            event.get(name)
        event.variable("read_result")


def _greenswitch_controller(bodies: list[bytes]) -> None:
    for body in bodies:
        # greenswitch reads the socket as str: the decode is part of its cost too
        headers = ESLEvent(body.decode("utf-8")).headers
        for name in CONTROLLER_READS:
            headers.get(name)
        headers.get("variable_read_result")


def _ours_full(bodies: list[bytes]) -> None:
    for body in bodies:
        parse_event_plain(body).headers()


def _greenswitch_full(bodies: list[bytes]) -> None:
    for body in bodies:
        ESLEvent(body.decode("utf-8"))


def _best_of(func, bodies, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        func(bodies)
        best = min(best, time.perf_counter() - start)
    return best


def run(repeat: int = 20, rounds: int = 7) -> dict:
    bodies = _event_bodies() * repeat
    result = {"events": len(bodies)}
    for workload, ours, theirs in (
        ("controller_reads", _ours_controller, _greenswitch_controller),
        ("full_decode", _ours_full, _greenswitch_full),
    ):
        t_ours = _best_of(ours, bodies, rounds)
        t_theirs = _best_of(theirs, bodies, rounds)
        result[workload] = {
            "ccctl_us_per_event": round(t_ours / len(bodies) * 1e6, 2),
            "greenswitch_us_per_event": round(t_theirs / len(bodies) * 1e6, 2),
            "speedup": round(t_theirs / t_ours, 2),
        }
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
