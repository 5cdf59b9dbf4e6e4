-- One row per Temporal workflow run of an activity definition: what the run recorded when it
-- started, and everything reviewers read once it finished (issue 3, read back by issue 4).

CREATE TABLE activity_runs (
    id                  bigserial   PRIMARY KEY,
    definition_id       text        NOT NULL,
    workflow_id         text        NOT NULL,
    run_id              text        NOT NULL,
    trigger             text        NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    scheduled_at        timestamptz NULL,
    local_date          date        NOT NULL,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NULL,
    status              text        NOT NULL CHECK (status IN (
                            'running', 'clean', 'partial', 'failed_output',
                            'failed_llm_transport', 'failed_llm_timeout', 'failed_llm_provider',
                            'failed_config', 'failed_state_hub')),
    error_message       text        NULL,
    framing             text        NULL,
    truncated           boolean     NULL,
    summary             text        NULL,
    items               jsonb       NULL,
    quarantined         jsonb       NULL,
    counts              jsonb       NULL,
    items_kept          integer     NULL,
    items_quarantined   integer     NULL,
    llm_model           text        NULL,
    llm_provider        text        NULL,
    llm_usage           jsonb       NULL,
    llm_finish_reason   text        NULL,
    llm_latency_ms      integer     NULL,
    llm_attempts        integer     NULL,
    reasks              integer     NOT NULL DEFAULT 0,
    raw_content         text        NULL,
    progress_event_id   text        NULL,
    note_id             text        NULL,
    note_key            text        NULL,
    timings             jsonb       NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activity_runs_workflow_run_key UNIQUE (workflow_id, run_id),
    -- Calibration counts scheduled runs by their cron tick; one without a tick is unusable.
    CONSTRAINT activity_runs_schedule_has_tick CHECK (trigger = 'manual' OR scheduled_at IS NOT NULL),
    -- A run is finished exactly when it has left 'running'.
    CONSTRAINT activity_runs_finished_status CHECK ((status = 'running') = (finished_at IS NULL))
);

-- Every history read orders newest first by (started_at, id) and stops after a LIMIT; each
-- filter `runs list` offers leads one index so the read is an ordered index walk, never a
-- scan and sort of the whole history. Combined filters walk one of these and filter the rest.
CREATE INDEX activity_runs_started_idx
    ON activity_runs (started_at DESC, id DESC);
CREATE INDEX activity_runs_definition_started_idx
    ON activity_runs (definition_id, started_at DESC, id DESC);
CREATE INDEX activity_runs_status_started_idx
    ON activity_runs (status, started_at DESC, id DESC);
CREATE INDEX activity_runs_trigger_started_idx
    ON activity_runs (trigger, started_at DESC, id DESC);

-- The calibration walk: one definition's scheduled runs, newest tick first.
CREATE INDEX activity_runs_definition_schedule_idx
    ON activity_runs (definition_id, trigger, scheduled_at DESC, id DESC);
