"""Our controller for `ccctl bench calls`: ccctl's outbound ESL server running the welcome flow.

Same call as bench/greenswitch_app.py (answer, playback, play_and_get_digits, playback,
hangup), no inbound ESL; writes its measurements as JSON on SIGTERM. No call records, unless
--database names where the call store writes them (the soak), flushed before the process exits.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.loop_monitor import LoopLagMonitor, percentile  # noqa: E402
from ccctl.config import load_settings  # noqa: E402
from ccctl.serve.controller import Controller, welcome_for_every_hotline  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats-file", required=True)
    parser.add_argument("--database", default="", help="write call records here (a migrated database)")
    args = parser.parse_args()
    settings = load_settings(ROOT / "ccctl.yaml", environ={})
    settings = dataclasses.replace(
        settings,
        esl=dataclasses.replace(settings.esl, outbound_port=args.port),
        web=dataclasses.replace(settings.web, port=0, secret_key=secrets.token_hex(16)),  # nothing kept in var/
        database=dataclasses.replace(settings.database, url=args.database or settings.database.url),
    )
    monitor = LoopLagMonitor()
    monitor.start()
    controller = Controller(
        settings,
        app_factory=welcome_for_every_hotline,
        record_sink=None if args.database else (lambda record: None),
        connect_inbound=False,
    )
    controller.start()
    done = gevent.event.Event()

    def finish(*_):
        rt = [seconds * 1000 for seconds in controller.stats.round_trips]
        calls = controller.stats.calls()
        out = {
            "completed": calls["completed"] + calls["abandoned"],
            "failed": calls["failed"] + calls["dropped"],
            "refused": controller.refused_calls,  # beyond esl.max_calls: closed at once, no call record
            "command_p50_ms": percentile(rt, 50),
            "command_p99_ms": percentile(rt, 99),
            **monitor.summary(),
        }
        Path(args.stats_file).write_text(json.dumps(out))
        done.set()

    gevent.signal_handler(signal.SIGTERM, finish)
    done.wait()
    controller.stop(grace=30.0 if args.database else 0.5)  # the call store flushes within the grace


if __name__ == "__main__":
    main()
