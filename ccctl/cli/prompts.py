"""`ccctl prompts build`: the flows' prompt texts as audio files, one voice per language."""

from __future__ import annotations

from pathlib import Path

import click

from ccctl.cli.common import CliError, echo_json, json_option, run, settings_of


@click.group()
def prompts() -> None:
    """IVR prompts: the texts of ivr_flows/prompt_text/ rendered to audio."""


@prompts.command("build")
@click.option("--lang", "languages", multiple=True, help="Only this language (repeatable; default: every set).")
@click.option("--force", is_flag=True, help="Render every text again, even one unchanged since the last build.")
@click.option("--flows-dir", type=click.Path(file_okay=False), help="Flows directory (default: settings flows_dir).")
@click.option("--prompts-dir", type=click.Path(file_okay=False), help="Prompts directory (default: settings).")
@json_option
@click.pass_context
def prompts_build(ctx, languages: tuple[str, ...], force: bool, flows_dir, prompts_dir, as_json: bool) -> None:
    """Speak every prompt text with espeak-ng (a voice per language) into 8 kHz mono WAV files.

    They go to PROMPTS_DIR/built/<language>/<key>.wav and play instead of the switch's TTS; a
    recording at PROMPTS_DIR/<language>/<key>.wav still wins. A text with {{ ... }} stays TTS.
    """
    from ccctl.ivr.prompt_audio import build_prompts
    from ccctl.ivr.prompts import load_prompt_sets

    settings = settings_of(ctx)
    flows = Path(flows_dir or settings.flows_dir)
    target = Path(prompts_dir or settings.prompts_dir or flows / "prompts")
    sets, errors = load_prompt_sets(flows, target)
    for error in errors:
        click.echo(str(error))
    if errors:
        raise CliError(f"{len(errors)} {'error' if len(errors) == 1 else 'errors'} in the prompt sets")
    unknown = [language for language in languages if language not in sets]
    if unknown:
        have = ", ".join(sorted(sets)) or "none"
        raise CliError(f"no prompt set for {', '.join(unknown)} in {flows}/prompt_text (have: {have})")
    chosen = [sets[language] for language in sorted(languages or sets)]
    if not chosen:
        raise CliError(f"no prompt sets in {flows}/prompt_text")
    reports = run(lambda: build_prompts(chosen, target, force=force))
    if as_json:
        echo_json([{**vars(report), "folder": str(target / "built" / report.language)} for report in reports])
        return
    for report in reports:
        click.echo(
            f"{report.language} (espeak-ng voice {report.voice}): {len(report.built)} built, "
            f"{len(report.unchanged)} unchanged, {len(report.recorded)} recorded, "
            f"{len(report.templated)} spoken by TTS (they hold {{{{ ... }}}}), {len(report.removed)} removed"
        )
    click.echo(f"files in {target / 'built'}")


COMMANDS = (prompts,)
