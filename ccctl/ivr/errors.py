"""What `ccctl flow check` reports: one problem, at a file, line and node.

Messages name keys and values the admin wrote, never caller data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccctl.errors import UserError


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow file; str() is `file:line: node 'x': message`."""

    file: str
    line: int | None
    node: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.node:
            return f"{where}: node '{self.node}': {self.message}"
        return f"{where}: {self.message}"


class FlowCheckFailed(UserError):
    """Flows that did not pass the check; .errors lists every problem."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = errors
        first = str(errors[0]) if errors else "no flows"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}")


class FlowRuntimeError(Exception):
    """A flow failed while a call ran it (a service failed, a loop ran away); no caller data inside."""
