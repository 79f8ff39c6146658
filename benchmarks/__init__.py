"""Platform-core benchmarks: a real ``shopkeeper serve`` process, load from another process.

Run with ``make bench`` or ``python -m benchmarks --help``; figures are reported in
BENCHMARKS.md.
"""
