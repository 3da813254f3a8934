"""ccctl: a hospital contact center controller for FreeSWITCH.

Outbound Event Socket controller, YAML IVR flows, skill-based queueing, SQL records.
"""

__version__ = "0.1.0"
