-- One row per task spec per run (issue 9): the outbox the task sinks work from, written
-- before anything is sent, and the audit of what each run proposed and what issue-core
-- answered. No foreign key to activity_runs: pruning run history must not erase the task
-- references, which are also how a later run finds that a task already exists.

CREATE TABLE task_spawn_log (
    id                  bigserial   PRIMARY KEY,
    definition_id       text        NOT NULL,
    workflow_id         text        NOT NULL,
    run_id              text        NOT NULL,
    -- The run's local date: runs of the same day are one occurrence (comment keys use it).
    occurrence          date        NOT NULL,
    -- The spec's identity within its run: its base key, or not_emitted:<ref>.
    spec_id             text        NOT NULL,
    candidate           text        NULL,
    item_rank           integer     NULL,
    item_line           integer     NULL,
    -- definition + candidate + action fingerprint; every episode of a recommendation shares it.
    base_key            text        NULL,
    episode             integer     NULL CHECK (episode >= 1),
    idempotency_key     text        NULL,
    payload_hash        text        NULL,
    requested_sink      text        NOT NULL CHECK (requested_sink IN ('null', 'dry_run', 'rest')),
    sink                text        NOT NULL CHECK (sink IN ('null', 'dry_run', 'rest')),
    state               text        NOT NULL CHECK (state IN (
                            'planned', 'dry_run', 'created', 'duplicate', 'commented',
                            'unknown', 'failed', 'not_emitted')),
    review_required     boolean     NOT NULL DEFAULT false,
    on_recurrence       text        NULL CHECK (on_recurrence IN ('skip', 'comment')),
    -- The spec as planned (title, body, repo, labels, ...): what the sink sends, after a crash too.
    spec                jsonb       NULL,
    -- dry_run: the exact request that would be sent (no Authorization header).
    request             jsonb       NULL,
    -- not_emitted: why (unknown_reference, no_repo, repo_not_allowed), and in our words.
    reason              text        NULL,
    reason_detail       text        NULL,
    task_id             text        NULL,
    task_key            text        NULL,
    task_url            text        NULL,
    comment_key         text        NULL,
    comment_id          text        NULL,
    -- The key of the last create this row sent: a task found under it is this row's own.
    sent_key            text        NULL,
    error_class         text        NULL,
    error_message       text        NULL,
    attempts            integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    last_sent_at        timestamptz NULL,
    -- Set once the sink owes the row nothing more; NULL while planned or unknown under rest.
    finished_at         timestamptz NULL,
    CONSTRAINT task_spawn_log_once_per_run UNIQUE (workflow_id, run_id, spec_id),
    CONSTRAINT task_spawn_log_keyed CHECK (
        state = 'not_emitted'
        OR (base_key IS NOT NULL AND episode IS NOT NULL AND idempotency_key IS NOT NULL AND spec IS NOT NULL)),
    CONSTRAINT task_spawn_log_not_emitted_reason CHECK ((state = 'not_emitted') = (reason IS NOT NULL)),
    CONSTRAINT task_spawn_log_has_reference CHECK (
        state NOT IN ('created', 'duplicate', 'commented') OR task_id IS NOT NULL),
    CONSTRAINT task_spawn_log_dry_run_request CHECK (state <> 'dry_run' OR request IS NOT NULL)
);

-- `tasks list` newest first, overall and per definition; `--run` uses the unique key.
CREATE INDEX task_spawn_log_created_idx ON task_spawn_log (created_at DESC, id DESC);
CREATE INDEX task_spawn_log_definition_created_idx ON task_spawn_log (definition_id, created_at DESC, id DESC);
-- `tasks show KEY` by our key or issue-core's; the episode walk starts from the newest known one.
CREATE INDEX task_spawn_log_idempotency_key_idx ON task_spawn_log (idempotency_key);
CREATE INDEX task_spawn_log_task_key_idx ON task_spawn_log (task_key);
CREATE INDEX task_spawn_log_base_key_idx ON task_spawn_log (base_key, episode DESC);
