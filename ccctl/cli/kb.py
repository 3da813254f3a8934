"""`ccctl kb check|list|show|search|import`: the knowledge base's articles (kb/<lang>/<slug>.md)."""

from __future__ import annotations

import click

from ccctl.cli.common import CliError, echo_json, echo_table, json_option, run, settings_of

LANG_HELP = "Article language: en, pl or zh."


@click.group()
def kb() -> None:
    """Knowledge-base articles: check, list, show, search, import (docs/kb.md)."""


def _kb_dir(ctx: click.Context, kb_dir: str | None) -> str:
    return kb_dir or settings_of(ctx).kb.dir


kb_dir_option = click.option(
    "--kb-dir", type=click.Path(file_okay=False), help="Articles directory (default: settings kb.dir)."
)


@kb.command("check")
@kb_dir_option
@click.pass_context
def kb_check(ctx: click.Context, kb_dir: str | None) -> None:
    """Check every article: FILE:LINE per problem, articles past valid_until, missing translations."""
    from ccctl.kb.commands import check

    report = run(lambda: check(_kb_dir(ctx, kb_dir)))
    lines = report.lines()
    for line in lines[:-1]:
        click.echo(line)
    if not report.ok:
        raise CliError(lines[-1])
    click.echo(lines[-1])


@kb.command("list")
@click.option("--lang", "language", help=LANG_HELP + " Default: every language.")
@kb_dir_option
@json_option
@click.pass_context
def kb_list(ctx: click.Context, language: str | None, kb_dir: str | None, as_json: bool) -> None:
    """List the articles with their owner, valid_until and whether search offers them."""
    from ccctl.kb.commands import listing

    rows = run(lambda: listing(_kb_dir(ctx, kb_dir), language))
    if as_json:
        echo_json(rows)
        return
    keys = ("slug", "language", "title", "valid_until", "owner", "status")
    echo_table(keys, [[row[k] for k in keys] for row in rows], empty="no articles")


@kb.command("show")
@click.argument("slug")
@click.option("--lang", "language", required=True, help=LANG_HELP)
@kb_dir_option
@json_option
@click.pass_context
def kb_show(ctx: click.Context, slug: str, language: str, kb_dir: str | None, as_json: bool) -> None:
    """Print one article: its front matter, the answer the phone speaks, its text."""
    from ccctl.kb.commands import article_data, format_article, show

    article = run(lambda: show(_kb_dir(ctx, kb_dir), slug, language))
    if as_json:
        echo_json(article_data(article))
    else:
        click.echo(format_article(article))


@kb.command("search")
@click.argument("text")
@click.option("--lang", "language", required=True, help=LANG_HELP)
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True)
@kb_dir_option
@json_option
@click.pass_context
def kb_search(ctx: click.Context, text: str, language: str, limit: int, kb_dir: str | None, as_json: bool) -> None:
    """Search the articles as the chat and the agents do: best articles with their confidence (0..1)."""
    from ccctl.kb.commands import search, search_data
    from ccctl.kb.knowledge import KnowledgeBase

    settings = settings_of(ctx)
    knowledge = KnowledgeBase(_kb_dir(ctx, kb_dir), settings.kb.min_score)
    result = run(lambda: search(knowledge, text, language, limit))
    data = search_data(result)
    if as_json:
        echo_json(data)
        return
    if data["answer"]:
        click.echo(f"answer: {data['answer']}")
    else:
        best = f"best {result.hits[0].confidence}" if result.hits else "nothing matched"
        click.echo(f"no answer ({best}; kb.min_score {result.min_score})")
    rows = [[h["confidence"], h["slug"], h["title"]] for h in data["hits"]]
    if rows:
        echo_table(["confidence", "slug", "title"], rows)


@kb.command("import")
@click.argument("source", type=click.Path(file_okay=False))
@kb_dir_option
@click.pass_context
def kb_import(ctx: click.Context, source: str, kb_dir: str | None) -> None:
    """Check the articles under SOURCE (<lang>/<slug>.md) and copy them in; any problem copies nothing."""
    from ccctl.kb.commands import ImportRefused, import_articles

    target = _kb_dir(ctx, kb_dir)

    def work():
        try:
            return import_articles(source, target)
        except ImportRefused as exc:
            for problem in exc.problems:
                click.echo(str(problem))
            raise

    report = run(work)
    for name in report.expired:
        click.echo(f"{name}: past valid_until, imported but withheld from search")
    click.echo(f"imported {len(report.added) + len(report.replaced)} articles into {target} "
               f"({len(report.added)} new, {len(report.replaced)} replaced)")  # fmt: skip


COMMANDS = (kb,)
