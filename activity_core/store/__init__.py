"""Run history in PostgreSQL: the pool, the migrations runner and the run queries.

The only package that speaks SQL; everything else calls these.
"""

from activity_core.store.migrations import (
    MigrationChecksumMismatch,
    MigrationError,
    MigrationFileError,
    apply_migrations,
)
from activity_core.store.models import (
    RunFinished,
    RunQuery,
    RunRecord,
    RunStarted,
    RunStatus,
    Trigger,
)
from activity_core.store.pool import DatabaseUnavailable, StoreError, create_pool
from activity_core.store.runs import ProgressEventConflict, RunNotStarted, RunStore

__all__ = [
    "DatabaseUnavailable",
    "MigrationChecksumMismatch",
    "MigrationError",
    "MigrationFileError",
    "ProgressEventConflict",
    "RunFinished",
    "RunNotStarted",
    "RunQuery",
    "RunRecord",
    "RunStarted",
    "RunStatus",
    "RunStore",
    "StoreError",
    "Trigger",
    "apply_migrations",
    "create_pool",
]
