"""Benchmarks: print figures and ratios measured in one run (not tests; never asserted)."""
