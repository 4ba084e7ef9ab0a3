-- The plain-SQL baseline of `make bench`: the smallest honest job queue in
-- PostgreSQL. One table, a partial index on the ready rows, claim with
-- FOR UPDATE SKIP LOCKED, then mark done. No leases, no fencing, no attempt
-- history, no outbox: it is what flowfabric's bookkeeping is compared to.
--
-- The statements the benchmark runs (prepared, one round trip each):
--   enqueue        INSERT INTO bq_job (queue, priority, payload) VALUES ($1, $2, $3)
--   enqueue batch  INSERT INTO bq_job (queue, payload) SELECT $1, p FROM unnest($2::bytea[]) p
--   claim n        UPDATE bq_job j SET state = 'running', worker = $2, locked_at = now()
--                    FROM (SELECT id FROM bq_job WHERE queue = $1 AND state = 'ready'
--                          ORDER BY priority DESC, id LIMIT $3 FOR UPDATE SKIP LOCKED) c
--                   WHERE j.id = c.id RETURNING j.id, j.payload
--   done           UPDATE bq_job SET state = 'done', result = $2, done_at = now()
--                   WHERE id = $1 AND state = 'running'
--   done batch     UPDATE bq_job SET state = 'done', done_at = now()
--                   WHERE id = ANY ($1::bigint[]) AND state = 'running'
DROP TABLE IF EXISTS bq_job;
CREATE TABLE bq_job (
    id        bigserial PRIMARY KEY,
    queue     text        NOT NULL,
    priority  integer     NOT NULL DEFAULT 0,
    state     text        NOT NULL DEFAULT 'ready',   -- ready, running, done
    payload   bytea,
    result    bytea,
    worker    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    locked_at timestamptz,
    done_at   timestamptz
);
CREATE INDEX bq_job_ready_idx ON bq_job (queue, priority DESC, id) WHERE state = 'ready';
