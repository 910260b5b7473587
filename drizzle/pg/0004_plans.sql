-- The rows that left a window, for a2a_relay_totals, planned at each call with its values: a plan
-- cached by a session while the ledger was small (a fresh store, before its first ANALYZE) read
-- every row of the peer through budget_ledger_peer_context (~2 ms a call at ~11k rows) instead of
-- the few in the time range through budget_ledger_peer_ts. Planning this one statement per call
-- replaces 0003's force_custom_plan on all of a2a_relay_totals (~0.2 ms a call), and runs only
-- when a row did leave the window.
CREATE OR REPLACE FUNCTION a2a_relay_left(p_peer text, p_profile text, p_after bigint, p_from bigint, p_to bigint,
  OUT turns bigint, OUT tokens float8, OUT cost float8)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  SELECT count(*), coalesce(sum(l.tokens), 0)::float8, coalesce(sum(l.cost_usd), 0)::float8
    INTO turns, tokens, cost FROM budget_ledger l
    WHERE l.peer = p_peer AND l.id > p_after AND l.ts >= p_from AND l.ts < p_to AND l.state <> 'refunded'
      AND (p_profile IS NULL OR l.profile = p_profile);
END $$;
--> statement-breakpoint
-- As in 0002, without the subtraction when no row left the window.
CREATE OR REPLACE FUNCTION a2a_relay_totals(p_peer text, p_profile text, p_wnd text, p_since bigint, p_after bigint)
RETURNS budget_totals LANGUAGE plpgsql AS $$
DECLARE
  v_scope text := CASE WHEN p_profile IS NULL THEN p_peer ELSE p_peer || chr(31) || p_profile END;
  t budget_totals;
  s record;
  v_next bigint;
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
    -- the ledger's oldest row at or after the cursor (an ordered probe of budget_ledger_peer_ts,
    -- whatever the plan): when none is older than p_since, no row left the window; the cursor
    -- returned moves, the stored one stays (nothing lies between them) until a row does leave
    SELECT l.ts INTO v_next FROM budget_ledger l WHERE l.peer = p_peer AND l.ts >= t.cursor_ts
      ORDER BY l.peer, l.ts LIMIT 1;
    IF v_next IS NULL OR v_next >= p_since THEN
      t.cursor_ts := p_since;
      RETURN t;
    END IF;
    SELECT * INTO s FROM a2a_relay_left(p_peer, p_profile, p_after, t.cursor_ts, p_since);
    UPDATE budget_totals SET cursor_ts = p_since, turns = turns - s.turns, tokens = tokens - s.tokens, cost = cost - s.cost
      WHERE scope = v_scope RETURNING * INTO t;
  END IF;
  RETURN t;
END $$;

--> statement-breakpoint
ALTER FUNCTION a2a_relay_totals(text, text, text, bigint, bigint) RESET plan_cache_mode;
