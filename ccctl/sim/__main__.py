"""Run the FreeSWITCH emulator as its own process: simulated patients calling a controller.

python -m ccctl.sim --controller 127.0.0.1:8084 --esl-port 8021 --rate 10 --calls 100 --time-factor 10 --did 7000 [--json]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from ccctl.sim.callers import random_script  # noqa: E402
from ccctl.sim.dialplan import Dialplan, DialplanError  # noqa: E402
from ccctl.sim.sofia_profile import ProfileError, SofiaProfile  # noqa: E402
from ccctl.sim.switch import Switch  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ccctl.sim", description=__doc__.splitlines()[0])
    parser.add_argument("--controller", default="127.0.0.1:8084", help="host:port of the outbound-socket controller")
    parser.add_argument("--esl-host", default="127.0.0.1")
    parser.add_argument("--esl-port", type=int, default=8021, help="inbound Event Socket port (0: any free port)")
    parser.add_argument("--password", default="ClueCon")
    parser.add_argument("--rate", type=float, default=10.0, help="new calls per real second (Poisson)")
    parser.add_argument("--calls", type=int, default=None, help="stop after this many calls")
    parser.add_argument("--seconds", type=float, default=None, help="stop placing calls after this many seconds")
    parser.add_argument("--time-factor", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--did", default="7000", help="the number the patients dial")
    parser.add_argument("--hotline", default="main", help="cc_hotline the default dialplan sets")
    parser.add_argument("--dialplan", default=None, help="an XML dialplan file instead of the default one")
    parser.add_argument(
        "--trunk-profile", default=None, help="the rendered sip_profiles/trunk.xml: callers arrive on it (sofia)"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--drain", type=float, default=120.0, help="real seconds to wait for calls to end")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser.parse_args(argv)


def reaction_percentiles(seconds) -> dict:
    """p50/p99 (ms) of how long the controller took to answer an EXECUTE_COMPLETE with its next command."""
    ordered = sorted(seconds)
    if not ordered:
        return {"samples": 0, "p50": 0.0, "p99": 0.0}
    pick = lambda pct: round(ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))] * 1000, 3)  # noqa: E731
    return {"samples": len(ordered), "p50": pick(50), "p99": pick(99)}


def _trunk_profile(path: str) -> SofiaProfile:
    with open(path, encoding="utf-8") as handle:
        return SofiaProfile.from_xml(handle.read(), source=path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.calls is None and args.seconds is None:
        args.calls = 100
    try:
        dialplan = (
            Dialplan.from_file(args.dialplan)
            if args.dialplan
            else Dialplan.default(args.controller, args.did, args.hotline)
        )
        trunk = _trunk_profile(args.trunk_profile) if args.trunk_profile else None
    except (OSError, DialplanError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    switch = Switch(
        dialplan,
        trunk=trunk,
        time_factor=args.time_factor,
        seed=args.seed,
        esl_host=args.esl_host,
        esl_port=args.esl_port,
        password=args.password,
    ).start()
    try:
        from ccctl.sim.traffic import drive

        summary = drive(
            switch,
            args.rate,
            calls=args.calls,
            seconds=args.seconds,
            profile=lambda rng: random_script(rng, args.did),
            destination=args.did,
            drain_seconds=args.drain,
        )
    finally:
        switch.stop()
    report = summary.as_dict()
    report["controller_reaction_ms"] = reaction_percentiles(switch.stats.reactions)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    return 1 if summary.failed or summary.unfinished else 0


def _print_text(report: dict) -> None:
    print(
        f"{report['placed']} calls in {report['real_seconds']} s ({report['calls_per_second']}/s): "
        f"{report['completed']} completed, {report['failed']} failed, {report['unfinished']} unfinished, "
        f"{report['answered']} answered, peak {report['peak_active']} active"
    )
    print("hung up by: " + ", ".join(f"{k} {v}" for k, v in sorted(report["hung_up_by"].items())))
    print("causes: " + ", ".join(f"{k} {v}" for k, v in sorted(report["hangup_causes"].items())))
    for failure in report["failures"]:
        print(f"failed {failure['uuid']}: {failure['reason']}")


if __name__ == "__main__":
    sys.exit(main())
