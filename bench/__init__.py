"""Benchmarks, run by hand (`python -m bench.capture`, …); results go to docs/benchmarks.md."""
