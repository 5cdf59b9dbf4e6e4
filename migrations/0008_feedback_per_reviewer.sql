-- Verdicts per reviewer (issue 11): a run's net verdict is each reviewer's latest.
--
-- 0002 allowed one row per (run, verdict), so a second reviewer's reject folded into the
-- first's and a reviewer who changed their mind back could not record it. Now every change
-- of a reviewer's verdict is a row of its own; recording the verdict a reviewer already holds
-- finds that row (the store checks, and the idempotency key, unique, settles a race), so a
-- verdict is still posted to State Hub exactly once.

ALTER TABLE calibration_feedback DROP CONSTRAINT calibration_feedback_once_per_verdict;
CREATE INDEX calibration_feedback_run_idx ON calibration_feedback (run_row_id, recorded_at, id);
