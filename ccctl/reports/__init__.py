"""ccctl.reports."""
