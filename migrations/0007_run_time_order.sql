-- History lists order by the run's time: its tick for a scheduled run, its start for a manual
-- one. Ordering by started_at put a backfilled run (started today for a tick of last week)
-- above the real runs of the days after its tick. These indexes lead with that time, so each
-- filter of `runs list` stays an ordered index walk; they replace the per-filter started_at
-- ones (activity_runs_started_idx stays: retention walks runs in start order).
CREATE INDEX activity_runs_run_time_idx
    ON activity_runs ((COALESCE(scheduled_at, started_at)) DESC, id DESC);
CREATE INDEX activity_runs_definition_run_time_idx
    ON activity_runs (definition_id, (COALESCE(scheduled_at, started_at)) DESC, id DESC);
CREATE INDEX activity_runs_status_run_time_idx
    ON activity_runs (status, (COALESCE(scheduled_at, started_at)) DESC, id DESC);
CREATE INDEX activity_runs_trigger_run_time_idx
    ON activity_runs (trigger, (COALESCE(scheduled_at, started_at)) DESC, id DESC);
DROP INDEX activity_runs_definition_started_idx;
DROP INDEX activity_runs_status_started_idx;
DROP INDEX activity_runs_trigger_started_idx;
