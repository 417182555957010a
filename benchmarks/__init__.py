"""Benchmarks, run by `python -m benchmarks` (`make bench`): each module exposes `run()`."""
