-- The shared ledger's operations as functions, so each is one round trip and holds the peer's
-- advisory lock only while it runs (a2a-relay: src/budgets/pg/store.ts calls them).
CREATE OR REPLACE FUNCTION a2a_relay_lock(p_peer text) RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtextextended('a2a-relay-budget:' || p_peer, 0));
$$;
--> statement-breakpoint
-- The peer's reset: rows up to after_id do not count.
CREATE OR REPLACE FUNCTION a2a_relay_after(p_peer text, OUT after_id bigint, OUT reset_at bigint) LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(r.after_id), 0), max(r.reset_at) FROM budget_resets r WHERE r.peer = p_peer;
$$;
--> statement-breakpoint
-- The totals row of one window (peer, or peer on p_profile), brought to `p_since` (caller holds the
-- peer's lock): built from the ledger when missing, after a reset or for another window; else
-- the rows that left the window since the last call are subtracted.
CREATE OR REPLACE FUNCTION a2a_relay_totals(p_peer text, p_profile text, p_wnd text, p_since bigint, p_after bigint)
RETURNS budget_totals LANGUAGE plpgsql AS $$
DECLARE
  v_scope text := CASE WHEN p_profile IS NULL THEN p_peer ELSE p_peer || chr(31) || p_profile END;
  t budget_totals;
  s record;
BEGIN
  SELECT * INTO t FROM budget_totals WHERE scope = v_scope;
  IF NOT FOUND OR t.after_id <> p_after OR t.wnd <> p_wnd THEN
    SELECT count(*) AS turns, coalesce(sum(l.tokens), 0)::float8 AS tokens, coalesce(sum(l.cost_usd), 0)::float8 AS cost,
      max(l.tokens) FILTER (WHERE l.state = 'settled')::float8 AS est_tokens,
      max(l.cost_usd) FILTER (WHERE l.state = 'settled') AS est_cost
      INTO s FROM budget_ledger l
      WHERE l.peer = p_peer AND l.id > p_after AND l.ts >= p_since AND l.state <> 'refunded'
        AND (p_profile IS NULL OR l.profile = p_profile);
    INSERT INTO budget_totals AS b (scope, peer, profile, wnd, cursor_ts, after_id, turns, tokens, cost, est_tokens, est_cost)
      VALUES (v_scope, p_peer, p_profile, p_wnd, p_since, p_after, s.turns, s.tokens, s.cost, s.est_tokens, s.est_cost)
      ON CONFLICT (scope) DO UPDATE SET wnd = excluded.wnd, cursor_ts = excluded.cursor_ts, after_id = excluded.after_id,
        turns = excluded.turns, tokens = excluded.tokens, cost = excluded.cost,
        est_tokens = excluded.est_tokens, est_cost = excluded.est_cost
      RETURNING * INTO t;
  ELSIF p_since > t.cursor_ts THEN
    SELECT count(*) AS turns, coalesce(sum(l.tokens), 0)::float8 AS tokens, coalesce(sum(l.cost_usd), 0)::float8 AS cost
      INTO s FROM budget_ledger l
      WHERE l.peer = p_peer AND l.id > p_after AND l.ts >= t.cursor_ts AND l.ts < p_since AND l.state <> 'refunded'
        AND (p_profile IS NULL OR l.profile = p_profile);
    UPDATE budget_totals SET cursor_ts = p_since, turns = turns - s.turns, tokens = tokens - s.tokens, cost = cost - s.cost
      WHERE scope = v_scope RETURNING * INTO t;
  END IF;
  RETURN t;
END $$;
--> statement-breakpoint
-- Admit one turn: under the peer's lock, read its use and either insert the reservation (id) or
-- refuse (id null). The caller (src/budgets/pg/check.ts refusalOf) names the limit from the use.
CREATE OR REPLACE FUNCTION a2a_relay_admit(
  p_peer text, p_profile text, p_ctx text, p_task text, p_ts bigint, p_holder text,
  p_wnd text, p_since bigint, p_pwnd text, p_psince bigint,
  p_max_turns bigint, p_max_tokens float8, p_max_cost float8, p_max_inflight bigint, p_max_ctx bigint,
  p_pmax_turns bigint, p_pmax_tokens float8, p_pmax_cost float8, p_pmax_ctx bigint)
RETURNS TABLE (id bigint, after_id bigint, reset_at bigint, turns bigint, tokens float8, cost float8,
  running integer, inflight integer, ctx_turns integer,
  p_turns bigint, p_tokens float8, p_cost float8, p_ctx_turns integer)
LANGUAGE plpgsql AS $$
DECLARE
  a record;
  t budget_totals;
  pt budget_totals;
  v_running integer;
  v_inflight integer;
  v_ctx integer := 0;
  v_pctx integer := 0;
  v_id bigint;
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  SELECT * INTO a FROM a2a_relay_after(p_peer);
  t := a2a_relay_totals(p_peer, NULL, p_wnd, p_since, a.after_id);
  SELECT count(*) FILTER (WHERE l.state = 'started'), count(*) INTO v_running, v_inflight
    FROM budget_ledger l WHERE l.peer = p_peer AND l.state IN ('reserved', 'started');
  IF p_max_ctx IS NOT NULL THEN
    SELECT count(*) INTO v_ctx FROM budget_ledger l
      WHERE l.peer = p_peer AND l.context_id = p_ctx AND l.id > a.after_id AND l.state <> 'refunded';
  END IF;
  IF p_pwnd IS NOT NULL THEN
    pt := a2a_relay_totals(p_peer, p_profile, p_pwnd, p_psince, a.after_id);
    IF p_pmax_ctx IS NOT NULL THEN
      SELECT count(*) INTO v_pctx FROM budget_ledger l
        WHERE l.peer = p_peer AND l.profile = p_profile AND l.context_id = p_ctx AND l.id > a.after_id AND l.state <> 'refunded';
    END IF;
  END IF;
  IF NOT (
    (p_max_inflight IS NOT NULL AND v_inflight >= p_max_inflight)
    OR (p_max_turns IS NOT NULL AND t.turns + 1 > p_max_turns)
    OR (p_max_tokens IS NOT NULL AND t.tokens >= p_max_tokens)
    OR (p_max_cost IS NOT NULL AND t.cost >= p_max_cost)
    OR (p_pwnd IS NOT NULL AND (
      (p_pmax_turns IS NOT NULL AND pt.turns + 1 > p_pmax_turns)
      OR (p_pmax_tokens IS NOT NULL AND pt.tokens >= p_pmax_tokens)
      OR (p_pmax_cost IS NOT NULL AND pt.cost >= p_pmax_cost)
      OR (p_pmax_ctx IS NOT NULL AND v_pctx + 1 > p_pmax_ctx)))
    OR (p_max_ctx IS NOT NULL AND v_ctx + 1 > p_max_ctx)
  ) THEN
    INSERT INTO budget_ledger AS l (peer, profile, context_id, task_id, ts, state, holder)
      VALUES (p_peer, p_profile, p_ctx, p_task, p_ts, 'reserved', p_holder) RETURNING l.id INTO v_id;
    UPDATE budget_totals b SET turns = b.turns + 1
      WHERE b.scope IN (p_peer, p_peer || chr(31) || p_profile) AND p_ts >= b.cursor_ts;
  END IF;
  RETURN QUERY SELECT v_id, a.after_id, a.reset_at, t.turns, t.tokens, t.cost, v_running, v_inflight, v_ctx,
    pt.turns, pt.tokens, pt.cost, v_pctx;
END $$;
--> statement-breakpoint
-- Start one reserved turn when the peer's concurrency and usage gates allow: 'started', 'wait',
-- 'refused' (tokens or cost ran out while it waited) or 'lost' (no longer this holder's).
CREATE OR REPLACE FUNCTION a2a_relay_start(
  p_id bigint, p_holder text, p_peer text, p_profile text,
  p_wnd text, p_since bigint, p_pwnd text, p_psince bigint,
  p_max_concurrent bigint, p_max_tokens float8, p_max_cost float8, p_pmax_tokens float8, p_pmax_cost float8)
RETURNS TABLE (status text, tokens float8, cost float8, p_tokens float8, p_cost float8, running integer)
LANGUAGE plpgsql AS $$
DECLARE
  a record;
  t budget_totals;
  pt budget_totals;
  v_running integer;
  v_may boolean;
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  SELECT * INTO a FROM a2a_relay_after(p_peer);
  t := a2a_relay_totals(p_peer, NULL, p_wnd, p_since, a.after_id);
  IF p_pwnd IS NOT NULL THEN
    pt := a2a_relay_totals(p_peer, p_profile, p_pwnd, p_psince, a.after_id);
  END IF;
  SELECT count(*) INTO v_running FROM budget_ledger l WHERE l.peer = p_peer AND l.state = 'started';
  IF (p_max_tokens IS NOT NULL AND t.tokens >= p_max_tokens) OR (p_max_cost IS NOT NULL AND t.cost >= p_max_cost)
    OR (p_pwnd IS NOT NULL AND ((p_pmax_tokens IS NOT NULL AND pt.tokens >= p_pmax_tokens)
      OR (p_pmax_cost IS NOT NULL AND pt.cost >= p_pmax_cost))) THEN
    RETURN QUERY SELECT 'refused'::text, t.tokens, t.cost, pt.tokens, pt.cost, v_running;
    RETURN;
  END IF;
  v_may := (p_max_concurrent IS NULL OR v_running < p_max_concurrent) AND (v_running = 0 OR (
    (p_max_tokens IS NULL OR (t.est_tokens IS NOT NULL AND t.tokens + (v_running + 1) * t.est_tokens <= p_max_tokens))
    AND (p_max_cost IS NULL OR (t.est_tokens IS NOT NULL AND t.cost + (v_running + 1) * coalesce(t.est_cost, 0) <= p_max_cost))));
  IF NOT v_may THEN
    RETURN QUERY SELECT 'wait'::text, t.tokens, t.cost, pt.tokens, pt.cost, v_running;
    RETURN;
  END IF;
  UPDATE budget_ledger l SET state = 'started' WHERE l.id = p_id AND l.holder = p_holder AND l.state = 'reserved';
  RETURN QUERY SELECT CASE WHEN FOUND THEN 'started' ELSE 'lost' END, t.tokens, t.cost, pt.tokens, pt.cost, v_running;
END $$;
--> statement-breakpoint
-- End one open turn of `p_holder`: settled with its usage, or refunded (never started). Keeps the
-- totals of the windows it counts in, and wakes the peer's waiting turns. False when the turn was
-- no longer this holder's (handed back meanwhile).
CREATE OR REPLACE FUNCTION a2a_relay_finish(p_id bigint, p_holder text, p_refund boolean, p_tokens float8, p_cost float8, p_now bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  r budget_ledger;
BEGIN
  SELECT * INTO r FROM budget_ledger l WHERE l.id = p_id;
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM a2a_relay_lock(r.peer);
  UPDATE budget_ledger l SET state = CASE WHEN p_refund THEN 'refunded' ELSE 'settled' END,
      tokens = CASE WHEN p_refund THEN 0 ELSE p_tokens END, cost_usd = CASE WHEN p_refund THEN 0 ELSE p_cost END,
      settled_at = p_now, holder = NULL
    WHERE l.id = p_id AND l.holder = p_holder AND l.state IN ('reserved', 'started');
  IF NOT FOUND THEN RETURN false; END IF;
  IF p_refund THEN
    UPDATE budget_totals b SET turns = b.turns - 1
      WHERE b.scope IN (r.peer, r.peer || chr(31) || r.profile) AND r.ts >= b.cursor_ts AND r.id > b.after_id;
  ELSE
    UPDATE budget_totals b SET tokens = b.tokens + p_tokens, cost = b.cost + p_cost,
        est_tokens = greatest(coalesce(b.est_tokens, 0), p_tokens), est_cost = greatest(coalesce(b.est_cost, 0), p_cost)
      WHERE b.scope IN (r.peer, r.peer || chr(31) || r.profile) AND r.ts >= b.cursor_ts AND r.id > b.after_id;
  END IF;
  PERFORM pg_notify('a2a_relay_budget', r.peer);
  RETURN true;
END $$;
--> statement-breakpoint
-- Hand back the open turns of every relay instance silent for longer than p_lease_s (or of
-- p_self, leaving): reserved ones are refunded, started ones settle with unknown usage. The
-- instance's row is deleted first, so of several relays noticing at once exactly one does it.
CREATE OR REPLACE FUNCTION a2a_relay_reap(p_lease_s float8, p_now bigint, p_self text DEFAULT NULL)
RETURNS TABLE (relays integer, refunded integer, settled integer) LANGUAGE plpgsql AS $$
DECLARE
  d record;
  r record;
  v_relays integer := 0;
  v_refunded integer := 0;
  v_settled integer := 0;
BEGIN
  -- SKIP LOCKED: a row another reaper is deleting is its to hand back (and no two reapers deadlock)
  FOR d IN DELETE FROM budget_relays x WHERE x.id IN (
      SELECT y.id FROM budget_relays y
      WHERE (p_self IS NULL AND y.heartbeat_at < now() - make_interval(secs => p_lease_s)) OR y.id = p_self
      FOR UPDATE SKIP LOCKED)
      RETURNING x.id LOOP
    v_relays := v_relays + 1;
    FOR r IN SELECT l.id, l.state FROM budget_ledger l WHERE l.holder = d.id AND l.state IN ('reserved', 'started') LOOP
      IF a2a_relay_finish(r.id, d.id, r.state = 'reserved', 0, 0, p_now) THEN
        IF r.state = 'reserved' THEN v_refunded := v_refunded + 1; ELSE v_settled := v_settled + 1; END IF;
      END IF;
    END LOOP;
  END LOOP;
  RETURN QUERY SELECT v_relays, v_refunded, v_settled;
END $$;
--> statement-breakpoint
-- Forget a peer's use so far (under its lock): the totals are rebuilt at its next admission.
CREATE OR REPLACE FUNCTION a2a_relay_reset(p_peer text, p_now bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  INSERT INTO budget_resets (peer, after_id, reset_at)
    VALUES (p_peer, (SELECT coalesce(max(id), 0) FROM budget_ledger), p_now)
    ON CONFLICT (peer) DO UPDATE SET after_id = excluded.after_id, reset_at = excluded.reset_at;
  DELETE FROM budget_totals WHERE peer = p_peer;
END $$;
--> statement-breakpoint
-- A turn a relay ran on its own while the store was down, added once (ref is unique) unless the
-- peer was reset after it; the peer's totals are rebuilt at its next admission.
CREATE OR REPLACE FUNCTION a2a_relay_import(p_peer text, p_profile text, p_ctx text, p_task text, p_ts bigint,
  p_tokens float8, p_cost float8, p_settled_at bigint, p_ref text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  IF EXISTS (SELECT 1 FROM budget_resets WHERE peer = p_peer AND reset_at > p_ts) THEN RETURN false; END IF;
  INSERT INTO budget_ledger (peer, profile, context_id, task_id, ts, state, tokens, cost_usd, settled_at, ref)
    VALUES (p_peer, p_profile, p_ctx, p_task, p_ts, 'settled', p_tokens, p_cost, p_settled_at, p_ref)
    ON CONFLICT (ref) DO NOTHING;
  IF NOT FOUND THEN RETURN false; END IF;
  DELETE FROM budget_totals WHERE peer = p_peer;
  RETURN true;
END $$;
