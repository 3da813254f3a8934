"""ccctl.ivr."""
