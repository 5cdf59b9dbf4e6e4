-- The reference allow-list a run's boundary used (the State Hub ids it read), so that
-- `activity-core runs show RUN --replay-files DIR` can hand replay-output everything
-- needed to re-run the boundary on the kept raw answer exactly as the run did.
ALTER TABLE activity_runs ADD COLUMN known_refs jsonb;
