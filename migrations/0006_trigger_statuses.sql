-- The trigger kind's failure classes (issue 10) join the closed set of run statuses
-- (activity_core.runs.models.RunStatus): failures of the command a trigger runs, or of its
-- command worker, named as the command's and never as activity-core's.

ALTER TABLE activity_runs DROP CONSTRAINT activity_runs_status_check;
ALTER TABLE activity_runs ADD CONSTRAINT activity_runs_status_check CHECK (status IN (
    'running', 'clean', 'partial', 'failed_output',
    'failed_llm_transport', 'failed_llm_timeout', 'failed_llm_provider',
    'failed_config', 'failed_state_hub',
    'failed_command_refused', 'failed_command_error', 'failed_command_timeout',
    'failed_command_unknown', 'failed_command_unreachable', 'failed_pass_in_flight'));
