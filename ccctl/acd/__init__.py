"""ccctl.acd."""
