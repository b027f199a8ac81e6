-- One row per notification and sink. (dedup_key, sink) is unique: an activity retried after it sent, or
-- a replayed workflow task, finds the row and does not send again. 'sending' is an attempt in progress
-- or one that will be retried; 'failed' was given up after its attempts (the import went on regardless).
CREATE TABLE notification_deliveries (
  id           bigserial PRIMARY KEY,
  dedup_key    text NOT NULL,
  sink         text NOT NULL,
  operator_id  text NOT NULL,
  event        text NOT NULL,
  message      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('sending', 'delivered', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  http_status  integer,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (dedup_key, sink)
);
CREATE INDEX notification_deliveries_recent ON notification_deliveries (operator_id, updated_at DESC);
CREATE INDEX notification_deliveries_updated ON notification_deliveries (updated_at DESC);

-- Who paused the operator (person, breaker, removal-guard) and, for a breaker that resumes on its own,
-- when its probe is due: status and the catalog page show both.
ALTER TABLE operators
  ADD COLUMN paused_by text CHECK (paused_by IN ('person', 'breaker', 'removal-guard')),
  ADD COLUMN resume_at timestamptz;
