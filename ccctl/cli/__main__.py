"""`python -m ccctl.cli` is `ccctl`."""

from ccctl.cli import main

main()
