"""The reference controller for `ccctl bench calls`: greenswitch's plain OutboundESLServer.

Runs the same call as ccctl's WelcomeFlow (answer, playback, play_and_get_digits,
playback, hangup) and writes its measurements as JSON when it gets SIGTERM.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from greenswitch.esl import OutboundESLServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.loop_monitor import LoopLagMonitor, percentile  # noqa: E402
from ccctl.ivr.welcome import DIGIT_PROMPT, GOODBYE, INVALID, WELCOME  # noqa: E402

STATS = {"completed": 0, "failed": 0, "round_trips_ms": []}


class WelcomeApp:
    """WelcomeFlow written the greenswitch way: blocking calls on the session."""

    def __init__(self, session) -> None:
        self.session = session

    def _timed(self, func, *args, **kwargs):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        if len(STATS["round_trips_ms"]) < 200_000:
            STATS["round_trips_ms"].append((time.perf_counter() - start) * 1000)
        return result

    def run(self) -> None:
        session = self.session
        try:
            session.myevents()
            session.linger()
            self._timed(session.call_command, "answer", block=True, response_timeout=30)
            self._timed(session.playback, WELCOME)
            self._timed(
                session.play_and_get_digits,
                1,
                1,
                3,
                5000,
                "#",
                f"'{DIGIT_PROMPT}'",
                f"'{INVALID}'",
                "cc_choice",
                "\\d",
                2000,
                "",
                response_timeout=30,
            )
            self._timed(session.playback, GOODBYE)
            session.hangup()
            STATS["completed"] += 1
        except Exception:  # noqa: BLE001 - any failure counts, the bench reports the total
            STATS["failed"] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats-file", required=True)
    args = parser.parse_args()
    monitor = LoopLagMonitor()
    monitor.start()
    server = OutboundESLServer(
        bind_address="127.0.0.1", bind_port=args.port, application=WelcomeApp, max_connections=100_000
    )

    def finish(*_):
        rt = STATS["round_trips_ms"]
        out = {
            "completed": STATS["completed"],
            "failed": STATS["failed"],
            "command_p50_ms": percentile(rt, 50),
            "command_p99_ms": percentile(rt, 99),
            **monitor.summary(),
        }
        Path(args.stats_file).write_text(json.dumps(out))
        server.stop()
        gevent.spawn_later(0.5, sys.exit, 0)

    gevent.signal_handler(signal.SIGTERM, finish)
    server.listen()


if __name__ == "__main__":
    main()
