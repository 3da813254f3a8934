"""ccctl.records."""
