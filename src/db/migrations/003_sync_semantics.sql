-- Sync semantics (issue 14): removals need evidence and, in bulk, a person; a persist re-run after its
-- commit finds its outcome; images that failed for a reason a retry may fix are tried again.

-- A removal an import has evidence for (a tombstone, or absence from a complete full listing). It is
-- applied when the import ends, unless the import would remove more than the operator's guard allows:
-- then every removal of that import is held until a person applies or discards them.
CREATE TABLE removals (
  operator_id        text NOT NULL REFERENCES operators (id),
  external_id        text NOT NULL,
  import_run_id      bigint NOT NULL REFERENCES import_runs (id),
  evidence           text NOT NULL CHECK (evidence IN ('tombstone', 'unlisted')),
  status             text NOT NULL CHECK (status IN ('pending', 'held')),
  noted_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operator_id, external_id)
);
CREATE INDEX removals_run ON removals (import_run_id);

-- How many of the operator's tours were active when the import began: the guard's denominator.
ALTER TABLE import_runs ADD COLUMN active_at_start integer;
-- What the import's end did with its removals ({removed, held, reason}), so a retried step repeats it.
ALTER TABLE import_runs ADD COLUMN removals_settled jsonb;

-- Set when the staged tour was persisted, so a persist that runs again after its commit returns the
-- outcome it stored (imported or stale) instead of failing on a missing row. Swept with the row.
ALTER TABLE staged_tours ADD COLUMN persisted_outcome text;

-- Whether a failed image's reason is one a retry may fix (download failed, operator down), and how many
-- imports in a row left such images failed: the next import retries them, up to a bound.
ALTER TABLE tour_assets ADD COLUMN failure_retryable boolean NOT NULL DEFAULT false;
ALTER TABLE tours ADD COLUMN image_retries integer NOT NULL DEFAULT 0;
