"""An in-process contact center: the FreeSWITCH emulator and a Controller wired together, for `ccctl demo`, `ccctl flow simulate`, `ccctl bench` and the integration tests."""
