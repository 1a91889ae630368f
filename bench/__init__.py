"""Benchmarks, each measured as a ratio to a baseline in the same run. Run by hand."""
