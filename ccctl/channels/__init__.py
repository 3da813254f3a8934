"""ccctl.channels."""
