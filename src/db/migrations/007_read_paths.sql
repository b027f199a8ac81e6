-- Read paths that stay bounded (issue 18 part 3): the metrics scrape and the operators page read counts
-- kept up to date on write, and their other queries read bounded windows through the indexes below.

-- How many rows each operator has in a counted table, by the labels the metrics and the page show
-- (`metric` names what is counted). Written only by count_rows() below, in the transaction of the write.
CREATE TABLE read_counts (
  metric             text NOT NULL,
  operator_id        text NOT NULL,
  labels             jsonb NOT NULL,
  n                  numeric NOT NULL,
  PRIMARY KEY (metric, operator_id, labels)
);

CREATE TYPE read_count AS (metric text, operator_id text, labels jsonb, n numeric);

-- What one row of each counted table adds to read_counts (read_counts_of_<table>, found by count_rows()).
CREATE FUNCTION read_counts_of_tours(r tours) RETURNS SETOF read_count LANGUAGE sql STABLE AS $$
  SELECT 'tours', r.operator_id, jsonb_build_object('status', r.status), 1::numeric
$$;

-- Tours are never deleted (a removal is a status), so an image's tour is always there to name its operator.
CREATE FUNCTION read_counts_of_tour_assets(r tour_assets) RETURNS SETOF read_count LANGUAGE sql STABLE AS $$
  SELECT 'images', t.operator_id, jsonb_build_object('status', r.status), 1::numeric
    FROM tours t WHERE t.id = r.tour_id
$$;

CREATE FUNCTION read_counts_of_tour_failures(r tour_failures) RETURNS SETOF read_count LANGUAGE sql STABLE AS $$
  SELECT 'tour_failures', r.operator_id, jsonb_build_object('kind', r.kind), 1::numeric
$$;

-- The histogram bucket of a run's duration: the smallest bound at or above it, NULL above the last one.
-- The bounds are DURATION_BUCKETS in src/api/metrics.ts (test/integration/read-paths.test.ts checks both).
CREATE FUNCTION import_duration_le(seconds float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
  SELECT b FROM unnest('{1,5,15,30,60,120,300,600,1800,3600,7200,21600}'::float8[]) AS b
   WHERE b >= seconds ORDER BY b LIMIT 1
$$;

-- A run counts by mode and status; a finished one also in its duration's bucket and the durations' sum.
CREATE FUNCTION read_counts_of_import_runs(r import_runs) RETURNS SETOF read_count LANGUAGE sql STABLE AS $$
  SELECT v.metric, r.operator_id, jsonb_build_object('mode', r.mode, 'status', r.status) || v.labels, v.n
    FROM (VALUES ('import_runs', '{}'::jsonb, 1::numeric),
                 ('import_duration',
                  jsonb_build_object('le', import_duration_le(EXTRACT(EPOCH FROM r.finished_at - r.started_at)::float8)), 1),
                 ('import_duration_sum', '{}', EXTRACT(EPOCH FROM r.finished_at - r.started_at))) AS v (metric, labels, n)
   WHERE v.metric = 'import_runs' OR r.finished_at IS NOT NULL
$$;

-- Applies a statement's net change to read_counts. Arguments: metrics a DELETE leaves as they are (the
-- duration histogram only grows, as Prometheus expects of it; retention must not read as a reset).
-- The counter rows of an operator are written under one lock per operator, taken in operator order:
-- concurrent writes of one operator queue for the rest of their transaction instead of deadlocking
-- on counter rows taken in different orders (a tour's image list is replaced by a DELETE then an INSERT).
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counts  text := format('read_counts_of_%s', TG_TABLE_NAME);
  added   text := format('SELECT c.metric, c.operator_id, c.labels, c.n FROM new_rows r, %I(r) c', counts);
  taken   text := format('SELECT c.metric, c.operator_id, c.labels, -c.n FROM old_rows r, %I(r) c', counts);
  kept    text := ' WHERE c.metric <> ALL($1)';
  deltas  read_count[];
  op      text;
BEGIN
  EXECUTE format(
    'SELECT array_agg(row(metric, operator_id, labels, n)::read_count ORDER BY metric, operator_id, labels)
       FROM (SELECT metric, operator_id, labels, sum(n) AS n FROM (%s) d (metric, operator_id, labels, n)
              GROUP BY 1, 2, 3 HAVING sum(n) <> 0) s',
    CASE TG_OP WHEN 'INSERT' THEN added WHEN 'DELETE' THEN taken || kept ELSE added || ' UNION ALL ' || taken END)
    INTO deltas USING coalesce(TG_ARGV, '{}');
  IF deltas IS NULL THEN
    RETURN NULL;
  END IF;
  FOR op IN SELECT DISTINCT d.operator_id FROM unnest(deltas) d ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(hashtext('read_counts'), hashtext(current_schema() || '/' || op));
  END LOOP;
  INSERT INTO read_counts AS k (metric, operator_id, labels, n) SELECT * FROM unnest(deltas)
    ON CONFLICT (metric, operator_id, labels) DO UPDATE SET n = k.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

-- Each counted table gets three triggers (transition tables allow one event per trigger), then the counts
-- of the rows already there. CREATE TRIGGER locks the table against writes until this migration commits:
-- nothing is written between that count and the triggers taking over.
DO $$
DECLARE
  t text;
  kept_on_delete text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tours', 'tour_assets', 'tour_failures', 'import_runs'] LOOP
    kept_on_delete := CASE t WHEN 'import_runs' THEN '''import_duration'', ''import_duration_sum''' ELSE '' END;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION count_rows()', t || '_count_insert', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION count_rows()', t || '_count_update', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION count_rows(%s)', t || '_count_delete', t, kept_on_delete);
    EXECUTE format('INSERT INTO read_counts (metric, operator_id, labels, n)
                    SELECT c.metric, c.operator_id, c.labels, sum(c.n) FROM %I r, %I(r) c GROUP BY 1, 2, 3',
                   t, 'read_counts_of_' || t);
  END LOOP;
END
$$;

-- The operators page's latest runs per operator, `status` and the alert facts: newest first, ties by id.
DROP INDEX import_runs_operator;
CREATE INDEX import_runs_operator ON import_runs (operator_id, started_at DESC, id DESC);

-- The latest notifications, of all operators or one (ties by id).
CREATE INDEX notification_deliveries_latest ON notification_deliveries (updated_at DESC, id DESC);
CREATE INDEX notification_deliveries_operator_latest
  ON notification_deliveries (operator_id, updated_at DESC, id DESC);
DROP INDEX notification_deliveries_recent;
DROP INDEX notification_deliveries_updated;

-- The tours page: active tours in title order, a page at a time.
CREATE INDEX tours_active_title ON tours (lower(title), id) WHERE status = 'active';

-- An original's content type, looked up by its key when /blobs serves it.
CREATE INDEX assets_storage_key ON assets (storage_key);
