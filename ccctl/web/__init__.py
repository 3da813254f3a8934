"""ccctl.web."""
