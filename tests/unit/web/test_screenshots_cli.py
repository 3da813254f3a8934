"""`ccctl web screenshots` is reachable from the command line and says what it lacks in one line; taking the
pictures themselves (half a minute of Chromium) is the maintainers' explicit step, not the suite's."""

from pathlib import Path

from click.testing import CliRunner

from ccctl.cli import main
from ccctl.web.screenshots import LANGUAGES, PAGES


def test_the_screenshots_command_names_the_missing_chromium_and_writes_nothing(tmp_path):
    out = tmp_path / "shots"
    result = CliRunner().invoke(main, ["web", "screenshots", "--out", str(out), "--chromium", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert (
        result.output
        == f"ccctl: screenshots need Chromium at {tmp_path / 'none'} (Debian package chromium, or --chromium)\n"
    )
    assert not out.exists()


def test_the_console_docs_show_every_picture_the_command_takes():
    docs = (Path(__file__).parents[3] / "docs" / "web.md").read_text()
    for page, *_ in PAGES:
        for language in LANGUAGES:
            assert f"(screenshots/{page}-{language}.png)" in docs
