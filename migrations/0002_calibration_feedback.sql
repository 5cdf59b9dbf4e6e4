-- A reviewer's verdict on one run (issue 4), and the State Hub event that carries it.
--
-- One row per (run, verdict): recording the same verdict again finds this row instead of
-- adding one, and progress_event_id, once set, means the verdict is in State Hub and must not
-- be posted again. The idempotency key is stored, not recomputed, so a retry after a lost
-- response reuses exactly the key State Hub may already have seen.

CREATE TABLE calibration_feedback (
    id                  bigserial   PRIMARY KEY,
    -- Pruning a whole run drops its verdicts here too; the State Hub event keeps the record.
    run_row_id          bigint      NOT NULL REFERENCES activity_runs (id) ON DELETE CASCADE,
    verdict             text        NOT NULL CHECK (verdict IN ('accept', 'reject')),
    note                text        NULL,
    reviewer            text        NULL,
    idempotency_key     text        NOT NULL UNIQUE,
    progress_event_id   text        NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    posted_at           timestamptz NULL,
    CONSTRAINT calibration_feedback_once_per_verdict UNIQUE (run_row_id, verdict),
    CONSTRAINT calibration_feedback_posted CHECK ((progress_event_id IS NULL) = (posted_at IS NULL))
);
