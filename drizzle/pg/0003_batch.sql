-- Group commit for the shared ledger (a2a-relay: src/budgets/pg/batch.ts): every admission, start
-- and end of one peer's turns that a relay has waiting goes to the database as one call, which
-- takes the peer's advisory lock once and applies them in order, so N turns cost one round trip
-- and one lock hold instead of 3N. An admission may also start its turn at once (`start`: the
-- relay has no turn of that peer waiting), so a turn that does not wait needs no start call.
-- a2a_relay_admit and a2a_relay_start stay, for relays of an older version during an upgrade.
-- The peer's window totals are read once per call and written back once at its end.
--
-- p_ops: a JSON array of operations, applied in order:
--   {"k":"f","id":…,"refund":bool,"tokens":…,"cost":…}  end an open turn of p_holder (settle or refund)
--   {"k":"s","id":…,"profile":…,"pwnd","psince","pmax_tokens","pmax_cost"}  start a reserved turn
--   {"k":"a","profile","ctx","task","ts","start":bool,"pwnd","psince","pmax_turns","pmax_tokens",
--    "pmax_cost","pmax_ctx"}  admit a turn, and start it when `start` and the gates allow
-- One row per operation (o_ord from 1) with its status: an admission 'refused' (o_id null),
-- 'reserved' or 'started'; a start 'started', 'wait', 'refused' or 'lost'; an end 'done' or 'lost';
-- and the use it was checked against (for naming the limit of a refusal).
CREATE OR REPLACE FUNCTION a2a_relay_batch(
  p_peer text, p_holder text, p_now bigint, p_wnd text, p_since bigint,
  p_max_turns bigint, p_max_tokens float8, p_max_cost float8, p_max_inflight bigint,
  p_max_concurrent bigint, p_max_ctx bigint, p_ops jsonb)
RETURNS TABLE (o_ord integer, o_id bigint, o_status text, o_turns bigint, o_tokens float8, o_cost float8,
  o_running integer, o_inflight integer, o_ctx integer,
  o_pturns bigint, o_ptokens float8, o_pcost float8, o_pctx integer)
LANGUAGE plpgsql AS $$
DECLARE
  a record;
  o record;
  r budget_ledger;
  t budget_totals;
  pt budget_totals;
  v_ord integer := 0;
  v_running integer;
  v_inflight integer;
  v_freed boolean := false;
  v_refuse boolean;
  v_may boolean;
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  -- as a2a_relay_after (inline: a SQL function called here is planned again at every call)
  SELECT coalesce(max(x.after_id), 0) AS after_id INTO a FROM budget_resets x WHERE x.peer = p_peer;
  t := a2a_relay_totals(p_peer, NULL, p_wnd, p_since, a.after_id);
  -- the peer's open turns, counted once and kept as the operations change them
  SELECT count(*) FILTER (WHERE l.state = 'started'), count(*) INTO v_running, v_inflight
    FROM budget_ledger l WHERE l.peer = p_peer AND l.state IN ('reserved', 'started');
  FOR o IN SELECT * FROM jsonb_to_recordset(p_ops) AS x(k text, id bigint, refund boolean, tokens float8,
      cost float8, profile text, ctx text, task text, ts bigint, start boolean, pwnd text, psince bigint,
      pmax_turns bigint, pmax_tokens float8, pmax_cost float8, pmax_ctx bigint) LOOP
    v_ord := v_ord + 1;
    o_ord := v_ord; o_id := o.id; o_status := NULL; o_turns := NULL; o_tokens := NULL; o_cost := NULL;
    o_ctx := 0; o_pturns := NULL; o_ptokens := NULL; o_pcost := NULL; o_pctx := 0;
    IF o.k = 'f' THEN
      SELECT * INTO r FROM budget_ledger l
        WHERE l.id = o.id AND l.peer = p_peer AND l.holder = p_holder AND l.state IN ('reserved', 'started');
      IF NOT FOUND THEN
        o_status := 'lost';
      ELSE
        UPDATE budget_ledger l SET state = CASE WHEN o.refund THEN 'refunded' ELSE 'settled' END,
            tokens = CASE WHEN o.refund THEN 0 ELSE o.tokens END, cost_usd = CASE WHEN o.refund THEN 0 ELSE o.cost END,
            settled_at = p_now, holder = NULL
          WHERE l.id = o.id;
        IF r.ts >= t.cursor_ts AND r.id > t.after_id THEN
          IF o.refund THEN
            t.turns := t.turns - 1;
          ELSE
            t.tokens := t.tokens + o.tokens;
            t.cost := t.cost + o.cost;
            t.est_tokens := greatest(coalesce(t.est_tokens, 0), o.tokens);
            t.est_cost := greatest(coalesce(t.est_cost, 0), o.cost);
          END IF;
        END IF;
        IF o.refund THEN
          UPDATE budget_totals b SET turns = b.turns - 1
            WHERE b.scope = r.peer || chr(31) || r.profile AND r.ts >= b.cursor_ts AND r.id > b.after_id;
        ELSE
          UPDATE budget_totals b SET tokens = b.tokens + o.tokens, cost = b.cost + o.cost,
              est_tokens = greatest(coalesce(b.est_tokens, 0), o.tokens),
              est_cost = greatest(coalesce(b.est_cost, 0), o.cost)
            WHERE b.scope = r.peer || chr(31) || r.profile AND r.ts >= b.cursor_ts AND r.id > b.after_id;
        END IF;
        IF r.state = 'started' THEN v_running := v_running - 1; END IF;
        v_inflight := v_inflight - 1;
        v_freed := true;
        o_status := 'done';
      END IF;
    ELSE
      IF o.pwnd IS NOT NULL THEN
        pt := a2a_relay_totals(p_peer, o.profile, o.pwnd, o.psince, a.after_id);
      ELSE
        pt := NULL;
      END IF;
      o_turns := t.turns; o_tokens := t.tokens; o_cost := t.cost;
      o_pturns := pt.turns; o_ptokens := pt.tokens; o_pcost := pt.cost;
      o_running := v_running; o_inflight := v_inflight;
      -- tokens or cost already spent: the same test at admission and at a start
      v_refuse := (p_max_tokens IS NOT NULL AND t.tokens >= p_max_tokens) OR (p_max_cost IS NOT NULL AND t.cost >= p_max_cost)
        OR (o.pwnd IS NOT NULL AND ((o.pmax_tokens IS NOT NULL AND pt.tokens >= o.pmax_tokens)
          OR (o.pmax_cost IS NOT NULL AND pt.cost >= o.pmax_cost)));
      -- may one more turn run now (as a2a_relay_start)
      v_may := (p_max_concurrent IS NULL OR v_running < p_max_concurrent) AND (v_running = 0 OR (
        (p_max_tokens IS NULL OR (t.est_tokens IS NOT NULL AND t.tokens + (v_running + 1) * t.est_tokens <= p_max_tokens))
        AND (p_max_cost IS NULL OR (t.est_tokens IS NOT NULL AND t.cost + (v_running + 1) * coalesce(t.est_cost, 0) <= p_max_cost))));
      IF o.k = 's' THEN
        IF v_refuse THEN
          o_status := 'refused';
        ELSIF NOT v_may THEN
          o_status := 'wait';
        ELSE
          UPDATE budget_ledger l SET state = 'started'
            WHERE l.id = o.id AND l.peer = p_peer AND l.holder = p_holder AND l.state = 'reserved';
          IF FOUND THEN
            v_running := v_running + 1;
            o_status := 'started';
          ELSE
            o_status := 'lost';
          END IF;
        END IF;
      ELSE
        IF p_max_ctx IS NOT NULL THEN
          SELECT count(*) INTO o_ctx FROM budget_ledger l
            WHERE l.peer = p_peer AND l.context_id = o.ctx AND l.id > a.after_id AND l.state <> 'refunded';
        END IF;
        IF o.pwnd IS NOT NULL AND o.pmax_ctx IS NOT NULL THEN
          SELECT count(*) INTO o_pctx FROM budget_ledger l
            WHERE l.peer = p_peer AND l.profile = o.profile AND l.context_id = o.ctx AND l.id > a.after_id
              AND l.state <> 'refunded';
        END IF;
        IF v_refuse
          OR (p_max_inflight IS NOT NULL AND v_inflight >= p_max_inflight)
          OR (p_max_turns IS NOT NULL AND t.turns + 1 > p_max_turns)
          OR (o.pwnd IS NOT NULL AND ((o.pmax_turns IS NOT NULL AND pt.turns + 1 > o.pmax_turns)
            OR (o.pmax_ctx IS NOT NULL AND o_pctx + 1 > o.pmax_ctx)))
          OR (p_max_ctx IS NOT NULL AND o_ctx + 1 > p_max_ctx) THEN
          o_status := 'refused';
          o_id := NULL;
        ELSE
          o_status := CASE WHEN o.start AND v_may THEN 'started' ELSE 'reserved' END;
          INSERT INTO budget_ledger AS l (peer, profile, context_id, task_id, ts, state, holder)
            VALUES (p_peer, o.profile, o.ctx, o.task, o.ts, o_status, p_holder) RETURNING l.id INTO o_id;
          IF o.ts >= t.cursor_ts THEN t.turns := t.turns + 1; END IF;
          UPDATE budget_totals b SET turns = b.turns + 1
            WHERE b.scope = p_peer || chr(31) || o.profile AND o.ts >= b.cursor_ts;
          v_inflight := v_inflight + 1;
          IF o_status = 'started' THEN v_running := v_running + 1; END IF;
        END IF;
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;
  UPDATE budget_totals b SET turns = t.turns, tokens = t.tokens, cost = t.cost, est_tokens = t.est_tokens,
      est_cost = t.est_cost
    WHERE b.scope = p_peer;
  -- wake the turns waiting in other relays only when a slot was freed and some turn waits for one
  IF v_freed AND v_inflight > v_running THEN
    PERFORM pg_notify('a2a_relay_budget', p_peer);
  END IF;
END $$;
--> statement-breakpoint
-- The totals' statements are planned for each call's own window: a plan cached while the ledger
-- was small (a fresh store) scans the whole ledger to find the rows that left the window.
ALTER FUNCTION a2a_relay_totals(text, text, text, bigint, bigint) SET plan_cache_mode = force_custom_plan;
--> statement-breakpoint
-- A single end (a relay's unwritten settles after an outage, the reaper, older relays): as in
-- 0002, but NOTIFY only when a turn of the peer waits for a slot (a NOTIFY serialises the
-- commits of every notifying transaction in the database).
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
  IF EXISTS (SELECT 1 FROM budget_ledger l WHERE l.peer = r.peer AND l.state = 'reserved') THEN
    PERFORM pg_notify('a2a_relay_budget', r.peer);
  END IF;
  RETURN true;
END $$;
