"""ccctl.sim."""
