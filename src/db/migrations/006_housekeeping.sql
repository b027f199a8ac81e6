-- Housekeeping (issue 18 part 3, issue 16 part 3): retention of bookkeeping rows in bounded batches, and
-- mark-and-sweep garbage collection of blobs no tour refers to.

-- A blob key's hash seen unreferenced by any tour_assets row, and since when. Swept (blobs and asset rows)
-- only when still unreferenced after the grace period and not downloaded or re-checked since the mark:
-- an import in flight may hold the hash in its workflow state before its persist writes the reference.
CREATE TABLE blob_gc_candidates (
  sha256             text PRIMARY KEY,
  marked_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_gc_candidates_marked ON blob_gc_candidates (marked_at);

-- "Does any tour refer to this hash?", asked for every blob the mark phase lists.
CREATE INDEX tour_assets_sha256 ON tour_assets (sha256) WHERE sha256 IS NOT NULL;

-- When the staged tour was persisted: its row is kept an hour for a persist re-run, then pruned even
-- while its operator imports. (Rows persisted before this migration have none and go by fetched_at.)
ALTER TABLE staged_tours ADD COLUMN persisted_at timestamptz;
UPDATE staged_tours SET persisted_at = fetched_at WHERE persisted_outcome IS NOT NULL;

-- Retention deletes the oldest rows first, a batch at a time.
CREATE INDEX import_runs_finished ON import_runs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tour_failures_occurred ON tour_failures (occurred_at);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
CREATE INDEX staged_tours_fetched ON staged_tours (fetched_at);
