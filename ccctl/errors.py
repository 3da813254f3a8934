"""The one kind of error a person can act on: str() is one line naming what is wrong and where.

Raised by every package (a bad flag, an unknown agent, a refused upload); the command line prints it as
`ccctl: <message>` with exit status 1 (ccctl.cli.common.run). Never holds patient data.
"""


class UserError(Exception):
    """A one-line, patient-data-free reason something cannot be done."""
