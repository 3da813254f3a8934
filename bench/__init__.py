"""Benchmarks run by `ccctl bench`; their figures go to closing notes, never into tests."""
