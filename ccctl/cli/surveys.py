"""`ccctl surveys ...`: satisfaction surveys (ivr_flows/surveys/<name>.yaml) and their results."""

from __future__ import annotations

from pathlib import Path

import click

from ccctl.cli.common import (
    actor_of,
    as_option,
    database_url,
    echo_json,
    echo_table,
    parse_period,
    period_options,
    run,
    settings_of,
)


@click.group()
def surveys() -> None:
    """Satisfaction surveys asked after agent calls and on campaign calls, and their results."""


@surveys.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.pass_context
def surveys_check(ctx, files) -> None:
    """Check survey files (default: every one in the flows' surveys/ folder); problems as FILE:LINE: message."""
    from ccctl.surveys.commands import check
    from ccctl.surveys.spec import SurveyFileError

    settings = settings_of(ctx)
    try:
        found = check(settings, list(files))
    except SurveyFileError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise SystemExit(1) from None
    for survey in found:
        click.echo(f"{survey.source}: survey '{survey.name}' OK ({len(survey.questions)} questions)")


@surveys.command("report")
@click.argument("name")
@period_options
@click.option("--by", type=click.Choice(["question", "agent", "queue"]), default="question", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Also write the rows to this CSV file.")
@as_option
@click.pass_context
def surveys_report(ctx, name, since, until, by, as_json, csv_file, actor) -> None:
    """Answers to survey NAME in the period (default: all): per question, or per agent or queue and question.

    A CSV export is audited (who, which survey, period and grouping); it holds counts only."""
    from ccctl.surveys.commands import export_detail, record_export, report
    from ccctl.surveys.report import report_csv, report_data, table_rows

    period = parse_period(since, until)
    responses, rows = run(lambda: report(settings_of(ctx), name, period.start, period.end, by))
    if csv_file:
        Path(csv_file).write_text(report_csv(by, rows), encoding="utf-8")
        detail = export_detail(name, since, until, by, len(rows))
        run(lambda: record_export(database_url(ctx), actor_of(actor), detail))
    if as_json:
        echo_json(report_data(name, by, responses, rows))
        return
    click.echo(f"survey {name}: {responses} responses")
    headers, body = table_rows(by, rows)
    echo_table(headers, body, empty="no answers in this period")


COMMANDS = (surveys,)
