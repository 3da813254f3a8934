"""ccctl.outbound."""
