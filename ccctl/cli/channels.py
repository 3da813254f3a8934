"""`ccctl sms ...` and `ccctl fax ...`: parse, call ccctl.channels.sms* / fax*, print.

Implementations are imported inside each command so `ccctl --help` stays instant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ccctl.cli.common import (
    CliError,
    echo_json,
    echo_table,
    format_time,
    json_option,
    patch_gevent,
    run,
    say_node,
    settings_of,
)
from ccctl.config import Settings
from ccctl.esl.password_policy import check_esl_password


@contextmanager
def _session(settings: Settings) -> Iterator:
    from sqlalchemy.orm import Session

    from ccctl.records.database import make_engine

    engine = make_engine(settings.database.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


@click.group()
def sms() -> None:
    """SMS through Kannel: single and bulk sends, delivery status, Kannel's configuration."""


@sms.command("send")
@click.argument("number")
@click.argument("text")
@click.pass_context
def sms_send(ctx, number: str, text: str) -> None:
    """Send one SMS to NUMBER (opted-out numbers are skipped)."""
    from ccctl.channels.sms_records import send_one

    settings = settings_of(ctx)
    with _session(settings) as session:
        message = run(lambda: send_one(session, settings, number, text))
        if message.status == "failed":
            raise CliError(message.error)
        if message.status == "opted_out":
            raise CliError("not sent: this number opted out of SMS (it can send START to opt in again)")
        click.echo(f"SMS accepted by Kannel, id {message.message_id}")


@sms.command("bulk")
@click.option("--template", "template_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--patients", "codes", default="", help="Patient codes, comma separated.")
@click.option("--specialty", default="", help="Every patient of this specialty.")
@click.option(
    "--key",
    default="",
    help="Batch key; the same key never sends twice to a patient (default: from template and recipients).",
)
@click.pass_context
def sms_bulk(ctx, template_file: str, codes: str, specialty: str, key: str) -> None:
    """Send a Jinja2 template to many patients, throttled; running it again sends nobody twice."""
    from ccctl.channels.sms_bulk import Selection, batch_status, format_status, run_bulk

    if bool(codes) == bool(specialty):
        raise CliError("choose the recipients with exactly one of --patients or --specialty")
    settings = settings_of(ctx)
    selection = Selection(codes=[c.strip() for c in codes.split(",") if c.strip()], specialty=specialty)
    source = Path(template_file).read_text(encoding="utf-8")
    patch_gevent()
    with _session(settings) as session:
        batch = run(lambda: run_bulk(session, settings, source, template_file, selection, key))
        click.echo(f"batch {batch.key}")
        click.echo(format_status(batch_status(session, batch.key)))


@sms.command("status")
@click.argument("batch")
@json_option
@click.pass_context
def sms_status(ctx, batch: str, as_json: bool) -> None:
    """Per-recipient status of a bulk send."""
    from ccctl.channels.sms_bulk import batch_status, format_status

    settings = settings_of(ctx)
    with _session(settings) as session:
        rows = run(lambda: batch_status(session, batch))
    if as_json:
        echo_json([row.__dict__ for row in rows])
    else:
        click.echo(format_status(rows))


@sms.command("kannel-conf")
@click.option("--log-dir", default="/var/log/kannel", show_default=True)
@click.pass_context
def sms_kannel_conf(ctx, log_dir: str) -> None:
    """Print a kannel.conf for bearerbox and smsbox (fill in the operator's SMPP account)."""
    from ccctl.channels.sms_kannel import SMPP_EXAMPLE, render_kannel_conf

    click.echo(render_kannel_conf(settings_of(ctx), [SMPP_EXAMPLE], log_dir=log_dir), nl=False)


@click.group()
def fax() -> None:
    """Faxes to patients (received ones are in `ccctl inbox`)."""


@fax.command("send")
@click.argument("number")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--node",
    default="",
    metavar="NAME",
    help="The esl.nodes switch to send from (default: the first that answers, in the order listed).",
)
@click.pass_context
def fax_send(ctx, number: str, file: str, node: str) -> None:
    """Convert FILE (PDF, JPEG, PNG, TIFF, office) to a fax and send it, with retries."""
    from ccctl.channels.fax_send import FaxSender, connect_switch, format_attempts, queue_fax
    from ccctl.esl.node_choice import nodes_to_try

    settings = settings_of(ctx)
    run(lambda: check_esl_password(settings))  # before a job is queued that could never be sent
    patch_gevent()
    run(lambda: nodes_to_try(settings.esl, node))  # a wrong --node is refused before the fax is queued
    with _session(settings) as session:
        job = run(lambda: queue_fax(session, settings, number, Path(file)))
        click.echo(f"fax job {job.id}: {job.pages} {'page' if job.pages == 1 else 'pages'} to send")
        try:
            esl = run(lambda: connect_switch(settings, node, say_node))
        except CliError as exc:
            raise CliError(f"fax job {job.id} not sent: {exc.message}") from None
        try:
            FaxSender(esl, settings).send(session, job)
        finally:
            esl.stop()
        click.echo(format_attempts(job))
        if job.status != "sent":
            raise CliError(f"fax job {job.id} failed after {len(job.attempts)} attempts")


def _job_json(job, attempts: bool = False) -> dict:
    data = {
        "id": job.id,
        "created_at": job.created_at,
        "status": job.status,
        "pages": job.pages,
        "tries": len(job.attempts),
        "document": job.source_name,
    }
    if attempts:
        data["attempts"] = [
            {
                "started_at": a.started_at,
                "ended_at": a.ended_at,
                "success": a.success,
                "pages_sent": a.pages_sent,
                "total_pages": a.total_pages,
                "result_code": a.result_code,
                "result": a.result_text,
                "hangup_cause": a.hangup_cause,
            }
            for a in job.attempts
        ]
    return data


@fax.command("list")
@click.option("--limit", default=50, show_default=True)
@json_option
@click.pass_context
def fax_list(ctx, limit: int, as_json: bool) -> None:
    """Faxes sent, newest first."""
    from ccctl.channels.fax_send import list_jobs

    settings = settings_of(ctx)
    with _session(settings) as session:
        jobs = list_jobs(session, limit)
        if as_json:
            echo_json([_job_json(job) for job in jobs])
            return
        rows = [(j.id, format_time(j.created_at), j.status, j.pages, len(j.attempts), j.source_name) for j in jobs]
        echo_table(("job", "created", "status", "pages", "tries", "document"), rows, empty="no faxes sent")


@fax.command("status")
@click.argument("job_id", type=int)
@json_option
@click.pass_context
def fax_status(ctx, job_id: int, as_json: bool) -> None:
    """Every attempt of one fax job: pages sent and spandsp's result."""
    from ccctl.channels.fax_send import format_attempts
    from ccctl.records.models.channels import FaxJob

    settings = settings_of(ctx)
    with _session(settings) as session:
        job = session.get(FaxJob, job_id)
        if job is None:
            raise CliError(f"no fax job {job_id} (ccctl fax list)")
        if as_json:
            echo_json(_job_json(job, attempts=True))
        else:
            click.echo(format_attempts(job))


COMMANDS = (
    sms,
    fax,
)
