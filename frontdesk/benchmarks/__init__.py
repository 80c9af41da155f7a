"""Benchmarks run by ``frontdesk bench``: ours against a baseline measured in the same run."""
