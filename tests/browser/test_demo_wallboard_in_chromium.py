"""`ccctl demo` as the README starts it: its wallboard, in Chromium, counts the emulator's live calls."""

import re
import signal
import subprocess
import sys

from test_demo import demo_config  # tests/integration, on sys.path via tests/browser/conftest.py

from ccctl.local_site.demo import DEMO_PASSWORD, DEMO_SUPERVISOR


def test_the_demo_wallboard_shows_live_traffic(tmp_path, browser_page):
    config = demo_config(tmp_path)
    command = [sys.executable, "-m", "ccctl.cli", "--config", str(config), "demo", "--rate", "5", "--time-factor", "20"]
    demo = subprocess.Popen(
        [*command, "--at", "2026-11-24T10:00"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = demo.stdout.readline()
        url = re.search(r"wallboard on (http://\S+/wallboard)", first).group(1)
        page = browser_page
        page.goto(url)
        page.fill("#name", DEMO_SUPERVISOR)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-button")
        page.wait_for_url(url)
        page.wait_for_function("Number(document.getElementById('completed').textContent) >= 3", timeout=60_000)
        assert page.text_content("#esl") == "connected"
    finally:
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=180)
    assert demo.returncode == 0, out + err
    assert re.search(r"^failed\s+0$", out, re.MULTILINE), out
