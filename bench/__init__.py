"""Benchmarks: scripts that print figures against a baseline measured in the same run.

Run each from the repository root as a module, e.g. ``python -m bench.classroom --repeat 3``.
"""
