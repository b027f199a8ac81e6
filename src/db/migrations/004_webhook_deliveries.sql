-- A delivery is claimed ('starting') before its tours are started and marked 'started' once every one
-- of them was: only a 'started' delivery is a duplicate. A 'starting' claim older than the webhook's
-- takeover timeout belongs to a request that died (process killed), and the sender's retry takes it over.
-- claim_token says which request holds the claim, so a failed attempt releases only its own.
-- Rows recorded before this migration were deliveries already accepted: they stay 'started'.
ALTER TABLE webhook_deliveries
  ADD COLUMN status text NOT NULL DEFAULT 'started' CHECK (status IN ('starting', 'started')),
  ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN claim_token text;
