-- A window's totals rebuilt from the ledger (a2a_relay_totals, after a reset, an import or for
-- another window) read the ledger through its primary key, every row the peer ever had, once the
-- cached plan went generic: after five calls under the default plan_cache_mode, and at once under
-- a2a_relay_turns' force_generic_plan (a function's SET holds for the functions it calls).
-- 200k rows over 10 days, a 24 h window: 23-39 ms instead of ~7 ms through budget_ledger_peer_ts,
-- under the peer's lock. The rebuild's sum is planned at each call with its values, as the rows
-- that left a window are (a2a_relay_left, 0004); it runs only when the totals are missing or stale.
CREATE OR REPLACE FUNCTION a2a_relay_sum(p_peer text, p_profile text, p_after bigint, p_since bigint,
  OUT turns bigint, OUT tokens float8, OUT cost float8, OUT est_tokens float8, OUT est_cost float8)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  SELECT count(*), coalesce(sum(l.tokens), 0)::float8, coalesce(sum(l.cost_usd), 0)::float8,
    max(l.tokens) FILTER (WHERE l.state = 'settled')::float8, max(l.cost_usd) FILTER (WHERE l.state = 'settled')
    INTO turns, tokens, cost, est_tokens, est_cost FROM budget_ledger l
    WHERE l.peer = p_peer AND l.id > p_after AND l.ts >= p_since AND l.state <> 'refunded'
      AND (p_profile IS NULL OR l.profile = p_profile);
END $$;
--> statement-breakpoint
-- As in 0004, the rebuild's sum through a2a_relay_sum.
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
    SELECT * INTO s FROM a2a_relay_sum(p_peer, p_profile, p_after, p_since);
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
