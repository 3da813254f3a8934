"""Jinja2 for prompt text and conditions: a sandbox, checked at load, rendered per call.

Admins write `{{ patient.display_name }}` in prompts; templates never reach Python
internals (sandbox) and what they render is made FreeSWITCH-safe by fs_args.say.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

log = logging.getLogger(__name__)
_ENV = ImmutableSandboxedEnvironment(autoescape=False, undefined=Undefined, keep_trailing_newline=False)


def template_error(source: str) -> tuple[int, str] | None:
    """(line within source, message) of a Jinja2 syntax error, or None."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return exc.lineno or 1, exc.message or "syntax error"
    return None


def expression_error(source: str) -> str | None:
    """The syntax error of a condition like `patient and patient.member`, or None."""
    try:
        _ENV.compile_expression(source)
    except TemplateSyntaxError as exc:
        return exc.message or "syntax error"
    return None


def render(source: str, variables: dict[str, Any]) -> str:
    """Template text with the call's variables; undefined names render empty."""
    if "{" not in source:
        return source
    try:
        return _compiled(source).render(variables)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        # a prompt must not drop the call; the type only, since values may be patient data
        log.warning("template rendering failed (%s); speaking it as empty", type(exc).__name__)
        return ""


@lru_cache(maxsize=2048)
def _compiled(source: str):
    return _ENV.from_string(source)


def evaluate(expression: str, variables: dict[str, Any]) -> bool:
    """A condition's truth; undefined names are false."""
    try:
        return bool(_compiled_expression(expression)(**variables))
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        log.warning("condition failed (%s); taken as false", type(exc).__name__)
        return False


@lru_cache(maxsize=1024)
def _compiled_expression(expression: str):
    return _ENV.compile_expression(expression, undefined_to_none=True)
