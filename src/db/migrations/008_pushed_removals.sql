-- Removals a push brought evidence for go through the removal guard too. A push is an import of one
-- tour, so the guard counts them per operator over a rolling window: each removal a push applied at
-- once is logged here until the window has passed. A burst that goes over the guard takes the window's
-- applied removals back and holds them with the rest (removals, status 'held') for a person.
CREATE TABLE pushed_removals (
  id           bigserial PRIMARY KEY,
  operator_id  text NOT NULL REFERENCES operators (id),
  external_id  text NOT NULL,
  removed_at   timestamptz NOT NULL
);
CREATE INDEX pushed_removals_window ON pushed_removals (operator_id, removed_at);

-- A removal held from pushes belongs to no import run.
ALTER TABLE removals ALTER COLUMN import_run_id DROP NOT NULL;
