"""Benchmarks of Handoff's hot paths, run by ``make bench`` (``scripts/run-bench``).

They expect a throwaway PostgreSQL that ``scripts/run-bench`` starts and
migrates: they truncate the tables they write to.
"""
