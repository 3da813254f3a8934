"""`ccctl bench scale-out`: calls/s through Kamailio + 2 switches + 2 controllers vs one of each
(bench/bench_scale_out.py)."""

from __future__ import annotations

from ccctl.errors import UserError
from ccctl.local_site.bench import _bench_module


class ScaleOutBenchError(UserError):
    """A program the bench needs is missing, or an option is wrong; str() is one line naming it."""


def parse_rates(text: str) -> list[float]:
    """ "10,20,40" -> [10.0, 20.0, 40.0]; a ScaleOutBenchError naming the option for anything else."""
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        rates = []
    if not rates or min(rates) <= 0:
        raise ScaleOutBenchError(f"bench scale-out --rates: expected calls/s like 10,20,40, got {text!r}")
    return rates


def run_scale_out_bench(
    rates: str, seconds: float, freeswitch_home: str, database: str, rtp_ports: str, sessions_per_second: int = 1000
) -> dict:
    if sessions_per_second < 1:
        raise ScaleOutBenchError(
            f"bench scale-out --sessions-per-second: must be at least 1, got {sessions_per_second}"
        )
    bench = _bench_module("bench_scale_out")
    site = _bench_module("scale_out_site")
    try:
        result = bench.run(parse_rates(rates), seconds, freeswitch_home, database, rtp_ports, sessions_per_second)
    except (site.MissingTool, RuntimeError) as exc:
        raise ScaleOutBenchError(f"bench scale-out: {exc}") from None
    result["text"] = bench.format_result(result)
    return result
