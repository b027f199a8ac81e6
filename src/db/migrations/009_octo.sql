-- Dialect D: OCTO, the open standard.
ALTER TABLE operators DROP CONSTRAINT operators_dialect_check;
ALTER TABLE operators ADD CONSTRAINT operators_dialect_check CHECK (dialect IN ('A', 'B', 'C', 'D'));

-- A listing that is one answer with every product (D) is staged here as it is parsed, and the import
-- pages through this copy: no process holds the whole catalog, no activity result carries it. Each
-- staging attempt has its own rows (an attempt that timed out may still be writing while its retry
-- starts); the first to finish the whole answer is recorded in staged_listing_runs, and only that
-- one's rows are ever read.
CREATE TABLE staged_listings (
  import_run_id  bigint NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
  attempt        uuid NOT NULL,
  seq            integer NOT NULL,
  external_id    text NOT NULL,
  entry          jsonb NOT NULL,
  PRIMARY KEY (import_run_id, attempt, seq)
);

CREATE TABLE staged_listing_runs (
  import_run_id  bigint PRIMARY KEY REFERENCES import_runs (id) ON DELETE CASCADE,
  attempt        uuid NOT NULL,
  entries        integer NOT NULL,
  completed_at   timestamptz NOT NULL DEFAULT now()
);
