-- The whole product's first schema. Timestamps are timestamptz; ids coming from operators are text.

CREATE TABLE operators (
  id                 text PRIMARY KEY,
  name               text NOT NULL,
  dialect            text NOT NULL CHECK (dialect IN ('A', 'B', 'C')),
  base_url           text NOT NULL,
  -- Non-secret settings (window, rate limit, breaker, schedule). Secrets stay in the environment.
  settings           jsonb NOT NULL DEFAULT '{}',
  paused             boolean NOT NULL DEFAULT false,
  pause_reason       text,
  paused_at          timestamptz,
  last_errors        jsonb NOT NULL DEFAULT '[]',
  -- Delta position (cursor or last-update mark), advanced only after every tour up to it was handled.
  delta_mark         text,
  delta_mark_at      timestamptz,
  -- The one import allowed to run for this operator (workflow id), whoever started it.
  running_workflow_id text,
  running_since      timestamptz,
  -- Shared rate limiter: the next free request slot, for all workers on all hosts.
  rate_next_slot     timestamptz NOT NULL DEFAULT now(),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tours (
  id                 bigserial PRIMARY KEY,
  operator_id        text NOT NULL REFERENCES operators (id),
  external_id        text NOT NULL,
  status             text NOT NULL CHECK (status IN ('active', 'removed')),
  title              text,
  description        text,
  duration_minutes   integer,
  price_amount       numeric(12, 2),
  price_currency     char(3),
  location           jsonb,
  content_hash       text,
  source_updated_at  timestamptz,
  -- Version guard: when the data was fetched; an older fetch never overwrites a newer one.
  fetched_at         timestamptz NOT NULL,
  removed_at         timestamptz,
  -- The import run whose listing last saw this tour: a complete listing marks unseen tours removed.
  last_listed_run    bigint,
  first_imported_at  timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (operator_id, external_id)
);
CREATE INDEX tours_search ON tours USING btree (lower(title));

-- A fetched tour waiting to be persisted, so histories carry its hash and not its content.
CREATE TABLE staged_tours (
  operator_id        text NOT NULL,
  external_id        text NOT NULL,
  content_hash       text NOT NULL,
  data               jsonb NOT NULL,
  fetched_at         timestamptz NOT NULL,
  PRIMARY KEY (operator_id, external_id, content_hash)
);

CREATE TABLE assets (
  sha256             text PRIMARY KEY,
  storage_key        text NOT NULL,
  bytes              bigint NOT NULL,
  content_type       text,
  width              integer,
  height             integer,
  format             text,
  created_at         timestamptz NOT NULL DEFAULT now()
);

-- Where an original came from, and its ETag, for conditional GETs. Many URLs may share one blob.
CREATE TABLE asset_sources (
  source_url         text PRIMARY KEY,
  sha256             text NOT NULL REFERENCES assets (sha256),
  etag               text,
  checked_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE asset_variants (
  sha256             text NOT NULL REFERENCES assets (sha256),
  width              integer NOT NULL,
  format             text NOT NULL,
  storage_key        text NOT NULL,
  actual_width       integer NOT NULL,
  actual_height      integer NOT NULL,
  bytes              bigint NOT NULL,
  PRIMARY KEY (sha256, width, format)
);

CREATE TABLE tour_assets (
  tour_id            bigint NOT NULL REFERENCES tours (id) ON DELETE CASCADE,
  position           integer NOT NULL,
  source_url         text NOT NULL,
  caption            text,
  sha256             text REFERENCES assets (sha256),
  status             text NOT NULL CHECK (status IN ('ready', 'failed')),
  failure_reason     text,
  PRIMARY KEY (tour_id, position)
);

CREATE TABLE import_runs (
  id                 bigserial PRIMARY KEY,
  operator_id        text NOT NULL REFERENCES operators (id),
  mode               text NOT NULL CHECK (mode IN ('delta', 'full', 'tour')),
  status             text NOT NULL CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'skipped', 'paused')),
  workflow_id        text NOT NULL,
  run_id             text NOT NULL,
  counts             jsonb NOT NULL DEFAULT '{}',
  message            text,
  started_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz,
  UNIQUE (workflow_id, run_id)
);
CREATE INDEX import_runs_operator ON import_runs (operator_id, started_at DESC);

CREATE TABLE tour_failures (
  id                 bigserial PRIMARY KEY,
  operator_id        text NOT NULL REFERENCES operators (id),
  external_id        text NOT NULL,
  kind               text NOT NULL,
  message            text NOT NULL,
  excerpt            text,
  workflow_id        text,
  occurred_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tour_failures_operator ON tour_failures (operator_id, occurred_at DESC);

-- Webhook ids already accepted, so a replayed delivery does not import twice.
CREATE TABLE webhook_deliveries (
  operator_id        text NOT NULL REFERENCES operators (id),
  webhook_id         text NOT NULL,
  received_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operator_id, webhook_id)
);
