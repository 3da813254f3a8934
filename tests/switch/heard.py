"""Who heard what: the level of one voice's tone in one channel of a recording (the voices are pure tones)."""

from __future__ import annotations

import subprocess
from pathlib import Path

HEARD = 0.01  # RMS of a tone band that someone hears (the voices are sent at 0.5, silence is ~0.001)


def tone_level(path: Path, hz: int, channel: int) -> float:
    """RMS of the band around `hz` in one channel of a WAV (sox sinc band-pass, then stat)."""
    out = subprocess.run(
        ["sox", str(path), "-n", "remix", str(channel), "sinc", f"{hz - 60}-{hz + 60}", "stat"],
        capture_output=True,
        text=True,
    )
    for line in out.stderr.splitlines():
        if line.startswith("RMS") and "amplitude" in line:
            return float(line.split()[-1])
    raise AssertionError(f"sox could not read {path}: {out.stderr[-500:]}")
