"""Benchmark harness: our backup, verify, restore, migrate and inspection against peers, in one run.

    .venv/bin/python -m bench              # full run (1,000,000 records of 1 KiB); see --help
    .venv/bin/python -m bench --quick      # seconds; the test suite runs this once

Not part of the test suite (except tests/test_bench_quick.py). Writes bench/results/latest.{md,json}.
"""
