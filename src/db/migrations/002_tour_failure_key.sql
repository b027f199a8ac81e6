-- Which activity execution recorded a failure (workflow id / run id / activity id / tour), so an
-- activity retried after its insert committed records the failure once, not once per attempt.
ALTER TABLE tour_failures ADD COLUMN recorded_by text;
CREATE UNIQUE INDEX tour_failures_recorded_by ON tour_failures (recorded_by);
