"""Migration between topics and clusters: a direct, faithful, resumable copy with exact offset
translation (run.py, copy.py, setup.py, groups.py), ``verify`` (verify.py) and cutover steps
(cutover.py). Reuses restore's writer, offset map, state files and group committer."""

from kafka_sre_tui.engine.migrate.cutover import STEPS, CutoverSettings, StepReport, catch_up, commit, drain, switch
from kafka_sre_tui.engine.migrate.request import (
    MigrateEvent,
    MigrateProgress,
    MigrateRequest,
    MigrateResult,
    MigrateStarted,
)
from kafka_sre_tui.engine.migrate.run import MigrationRefused, migrate, refuse_read_only
from kafka_sre_tui.engine.migrate.verify import VerifyResult, verify_migration

__all__ = ["STEPS", "CutoverSettings", "MigrateEvent", "MigrateProgress", "MigrateRequest", "MigrateResult",
           "MigrateStarted", "MigrationRefused", "StepReport", "VerifyResult", "catch_up", "commit", "drain",
           "migrate", "refuse_read_only", "switch", "verify_migration"]
