"""The kb node: speak a knowledge-base article's short answer, by TTS, in the caller's language.

Either one fixed `article`, or a topic menu (`topics`: key -> article) whose `article`, if
given, is what a caller who picks nothing hears. Every article must exist, and be within
its valid_until, in every language the flow speaks: checked at load against the same
knowledge base the calls then read (FlowCatalog.kb), never mid-call.
"""

from __future__ import annotations

import re

from ccctl.callflow import Execute
from ccctl.ivr.digits import ask_key
from ccctl.ivr.fs_args import say
from ccctl.ivr.nodes.base import CheckEnv, Field, Node, Report, Steps
from ccctl.ivr.nodes.menu import KEYPAD
from ccctl.ivr.run_context import RunContext

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class KbNode(Node):
    """Read an article's short answer; with topics, the caller picks the article by key first."""

    type_name = "kb"
    fields = {
        "article": Field("text"),
        "topics": Field("mapping"),
        "prompt": Field("prompt"),
        "invalid_prompt": Field("prompt"),
        "no_input_prompt": Field("prompt"),
        "timeout": Field("seconds", default=5),
        "tries": Field("int", default=2),
        # spoken when the article went away or expired after the flows were loaded
        "unavailable_prompt": Field("tts"),
        "next": Field("node", ends_when_absent=True),
    }

    @property
    def waits_for_input(self) -> bool:  # type: ignore[override]
        return "topics" in self.values

    def slugs(self) -> list[tuple[str, int]]:
        """(article slug, line) of every article this node may speak."""
        found = []
        if "article" in self.values:
            found.append((str(self.values["article"]), self.line_of("article")))
        topics = self.values.get("topics", {})
        found += [(str(slug), topics.line_of(key)) for key, slug in topics.items()]
        return found

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        topics = self.values.get("topics")
        if "article" not in self.raw and "topics" not in self.raw:
            report(self.line, "a kb node needs 'article' (one article) or 'topics' (key: article)")
        if topics is not None:
            if not topics:
                report(self.line_of("topics"), "'topics' is empty")
            if "prompt" not in self.values:
                report(self.line_of("topics"), "'topics' needs a 'prompt' that names them")
            for key, line in getattr(topics, "duplicates", []):
                report(line, f"topic '{key}' appears twice")
            for key in topics:
                if not isinstance(key, str) or len(key) != 1 or key not in KEYPAD:
                    report(topics.line_of(key), f"topic {key!r} must be one keypad key (0-9, '*' or '#', quoted)")
        elif "prompt" in self.values:
            report(self.line_of("prompt"), "'prompt' asks for a topic: it needs 'topics'")
        for slug, line in self.slugs():
            if not SLUG.match(slug):
                report(line, f"{slug!r} is not an article slug (lower-case letters, digits and -)")
        if self.get("tries") < 1:
            report(self.line_of("tries"), "'tries' must be at least 1")

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        if env.kb is None:
            report(self.line, "a kb node needs the knowledge base (settings kb.dir), and none was given")
            return
        for slug, line in self.slugs():
            if not SLUG.match(slug):
                continue  # already reported as written wrong
            for language in env.languages:
                problem = env.kb.missing_article(slug, language)
                if problem:
                    report(line, problem)

    def describe(self) -> str:
        topics = self.values.get("topics", {})
        if topics:
            picks = ", ".join(f"{key}={slug}" for key, slug in topics.items())
            default = f", nothing: {self.values['article']}" if "article" in self.values else ""
            return f"kb topics {picks}{default}"
        return f"kb article {self.get('article')}"

    def run(self, ctx: RunContext) -> Steps:
        slug = self.values.get("article")
        topics = {str(key): str(value) for key, value in self.values.get("topics", {}).items()}
        if topics:
            digit = yield from ask_key(ctx, self, topics)
            slug = topics[digit] if digit is not None else slug
        if slug is None:
            ctx.visit(f"{self.name}:no_topic")
            return self.get("next")
        kb = ctx.flow.catalog.kb if ctx.flow.catalog else None
        answer = kb.short_answer(str(slug), ctx.language) if kb else None
        if answer is None:
            ctx.visit(f"{self.name}:unavailable")
            if "unavailable_prompt" in self.values:
                yield Execute("playback", ctx.playback(self.get("unavailable_prompt")))
            return self.get("next")
        ctx.visit(f"{self.name}:{slug}")
        yield Execute("playback", say(answer))
        return self.get("next")
