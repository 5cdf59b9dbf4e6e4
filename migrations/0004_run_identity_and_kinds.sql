-- Definitions of several kinds, and a trigger attribution nobody can fake (issues 8 and 11).
--
-- trigger: 'schedule' (a tick's schedule action, on time), 'late' (a tick's action started
-- past the definition's on-time bound: a catch-up or a backfill), 'trigger' (`temporal
-- schedule trigger`), 'manual' (a workflow started directly). tick_at is the spec's tick a
-- schedule or late run belongs to; start_lag_seconds how long after it the run started.
-- kind and result hold what a non-instruction kind records; versions what produced the run.
-- run_artifacts keeps the large inputs and outputs of a run's steps (the planning context,
-- each model answer) so that they never travel through Temporal history.

ALTER TABLE activity_runs DROP CONSTRAINT activity_runs_trigger_check;
ALTER TABLE activity_runs DROP CONSTRAINT activity_runs_schedule_has_tick;
ALTER TABLE activity_runs
    ADD COLUMN kind              text             NOT NULL DEFAULT 'instruction',
    ADD COLUMN tick_at           timestamptz      NULL,
    ADD COLUMN start_lag_seconds double precision NULL,
    ADD COLUMN versions          jsonb            NULL,
    ADD COLUMN result            jsonb            NULL;
UPDATE activity_runs SET tick_at = scheduled_at WHERE trigger = 'schedule';
ALTER TABLE activity_runs ADD CONSTRAINT activity_runs_trigger_check
    CHECK (trigger IN ('schedule', 'late', 'trigger', 'manual'));
ALTER TABLE activity_runs ADD CONSTRAINT activity_runs_tick_runs_have_tick
    CHECK (trigger NOT IN ('schedule', 'late') OR tick_at IS NOT NULL);

CREATE TABLE run_artifacts (
    workflow_id text        NOT NULL,
    run_id      text        NOT NULL,
    name        text        NOT NULL,
    content     text        NOT NULL,
    sha256      text        NOT NULL,
    bytes       integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, run_id, name),
    FOREIGN KEY (workflow_id, run_id) REFERENCES activity_runs (workflow_id, run_id) ON DELETE CASCADE
);
