"""Observability of headless runs: the log file, the jobs' log lines, Prometheus metrics, the lag
exporter and webhook notifications. Fed by the events the engine already emits (``engine/jobs.py``
progress, the drain monitor's assessments); the engine knows nothing of it."""
