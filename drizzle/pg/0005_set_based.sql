ALTER TABLE "budget_ledger" DROP CONSTRAINT "budget_ledger_ref_unique";--> statement-breakpoint
DROP INDEX "budget_ledger_holder";--> statement-breakpoint
CREATE UNIQUE INDEX "budget_ledger_ref" ON "budget_ledger" USING btree ("ref") WHERE "budget_ledger"."ref" is not null;--> statement-breakpoint
-- As in 0002, with the conflict target of the partial index above.
CREATE OR REPLACE FUNCTION a2a_relay_import(p_peer text, p_profile text, p_ctx text, p_task text, p_ts bigint,
  p_tokens float8, p_cost float8, p_settled_at bigint, p_ref text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  IF EXISTS (SELECT 1 FROM budget_resets WHERE peer = p_peer AND reset_at > p_ts) THEN RETURN false; END IF;
  INSERT INTO budget_ledger (peer, profile, context_id, task_id, ts, state, tokens, cost_usd, settled_at, ref)
    VALUES (p_peer, p_profile, p_ctx, p_task, p_ts, 'settled', p_tokens, p_cost, p_settled_at, p_ref)
    ON CONFLICT (ref) WHERE ref IS NOT NULL DO NOTHING;
  IF NOT FOUND THEN RETURN false; END IF;
  DELETE FROM budget_totals WHERE peer = p_peer;
  RETURN true;
END $$;
--> statement-breakpoint
-- a2a_relay_batch set-based, for the common call (a2a-relay: src/budgets/pg/store.ts picks it):
-- a peer without per-conversation or per-profile limits, and no waiting turn to start. The ends
-- (p_end_*) are one UPDATE and the admissions (p_profile, p_ctx, p_task, p_ts) one INSERT, instead
-- of a PL/pgSQL pass and two or three statements for each operation. The same checks in the same
-- order as a2a_relay_batch: ends first, then each admission against the use left by the ones
-- before it (refused ones change nothing, so the admitted ones are the first k and the started
-- ones the first m of those: max_turns and max_concurrent are checked exactly as one by one).
-- Rows as a2a_relay_batch's: the ends (o_ord 1..), then the admissions.
CREATE OR REPLACE FUNCTION a2a_relay_turns(
  p_peer text, p_holder text, p_now bigint, p_wnd text, p_since bigint,
  p_max_turns bigint, p_max_tokens float8, p_max_cost float8, p_max_inflight bigint, p_max_concurrent bigint,
  p_end_id bigint[], p_end_refund boolean[], p_end_tokens float8[], p_end_cost float8[],
  p_profile text[], p_ctx text[], p_task text[], p_ts bigint[])
RETURNS TABLE (o_ord integer, o_id bigint, o_status text, o_turns bigint, o_tokens float8, o_cost float8,
  o_running integer, o_inflight integer, o_ctx integer,
  o_pturns bigint, o_ptokens float8, o_pcost float8, o_pctx integer)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_after bigint;
  t budget_totals;
  v_nend integer := coalesce(cardinality(p_end_id), 0);
  v_n integer := coalesce(cardinality(p_ts), 0);
  v_done bigint[] := '{}';
  v_running integer;
  v_inflight integer;
  v_turns bigint;
  v_refunds bigint;
  v_tokens float8;
  v_cost float8;
  v_mt float8;
  v_mc float8;
  v_refuse boolean;
  v_k integer := 0;
  v_m integer := 0;
  v_ids bigint[];
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  SELECT coalesce(max(x.after_id), 0) INTO v_after FROM budget_resets x WHERE x.peer = p_peer;
  t := a2a_relay_totals(p_peer, NULL, p_wnd, p_since, v_after);
  IF v_nend > 0 THEN
    -- the ends; the profiles' totals they count in; what they change in the peer's
    WITH d AS (
      UPDATE budget_ledger l SET state = CASE WHEN x.refund THEN 'refunded' ELSE 'settled' END,
          tokens = CASE WHEN x.refund THEN 0 ELSE x.tokens END, cost_usd = CASE WHEN x.refund THEN 0 ELSE x.cost END,
          settled_at = p_now, holder = NULL
        FROM unnest(p_end_id, p_end_refund, p_end_tokens, p_end_cost) AS x(id, refund, tokens, cost)
        WHERE l.id = x.id AND l.peer = p_peer AND l.holder = p_holder AND l.state IN ('reserved', 'started')
        RETURNING l.id, l.ts, l.profile, x.refund, x.tokens, x.cost
    ), p AS (
      UPDATE budget_totals b SET turns = b.turns - s.refunds, tokens = b.tokens + s.tokens, cost = b.cost + s.cost,
          est_tokens = CASE WHEN s.mt IS NULL THEN b.est_tokens ELSE greatest(coalesce(b.est_tokens, 0), s.mt) END,
          est_cost = CASE WHEN s.mt IS NULL THEN b.est_cost ELSE greatest(coalesce(b.est_cost, 0), s.mc) END
        FROM (SELECT b2.scope, count(*) FILTER (WHERE d.refund) AS refunds,
            coalesce(sum(d.tokens) FILTER (WHERE NOT d.refund), 0) AS tokens,
            coalesce(sum(d.cost) FILTER (WHERE NOT d.refund), 0) AS cost,
            max(d.tokens) FILTER (WHERE NOT d.refund) AS mt, max(d.cost) FILTER (WHERE NOT d.refund) AS mc
          FROM d JOIN budget_totals b2 ON b2.scope = p_peer || chr(31) || d.profile
            AND d.ts >= b2.cursor_ts AND d.id > b2.after_id
          GROUP BY b2.scope) s
        WHERE b.scope = s.scope
    )
    SELECT coalesce(array_agg(d.id), '{}'), count(*) FILTER (WHERE d.refund AND c),
      coalesce(sum(d.tokens) FILTER (WHERE NOT d.refund AND c), 0), coalesce(sum(d.cost) FILTER (WHERE NOT d.refund AND c), 0),
      max(d.tokens) FILTER (WHERE NOT d.refund AND c), max(d.cost) FILTER (WHERE NOT d.refund AND c)
      INTO v_done, v_refunds, v_tokens, v_cost, v_mt, v_mc
      FROM d, LATERAL (SELECT d.ts >= t.cursor_ts AND d.id > t.after_id AS c) AS w;
    t.turns := t.turns - v_refunds;
    t.tokens := t.tokens + v_tokens;
    t.cost := t.cost + v_cost;
    IF v_mt IS NOT NULL THEN
      t.est_tokens := greatest(coalesce(t.est_tokens, 0), v_mt);
      t.est_cost := greatest(coalesce(t.est_cost, 0), v_mc);
    END IF;
    RETURN QUERY SELECT i, p_end_id[i], CASE WHEN p_end_id[i] = ANY (v_done) THEN 'done' ELSE 'lost' END,
        NULL::bigint, NULL::float8, NULL::float8, NULL::integer, NULL::integer, 0, NULL::bigint, NULL::float8, NULL::float8, 0
      FROM generate_series(1, v_nend) AS i;
  END IF;
  -- the peer's open turns once the ends are written
  SELECT count(*) FILTER (WHERE l.state = 'started'), count(*) INTO v_running, v_inflight
    FROM budget_ledger l WHERE l.peer = p_peer AND l.state IN ('reserved', 'started');
  IF v_n > 0 THEN
    v_turns := t.turns;
    v_refuse := (p_max_tokens IS NOT NULL AND t.tokens >= p_max_tokens) OR (p_max_cost IS NOT NULL AND t.cost >= p_max_cost);
    -- admitted: the first k (each against the turns and open turns the ones before it added)
    WHILE v_k < v_n AND NOT v_refuse
      AND (p_max_inflight IS NULL OR v_inflight + v_k < p_max_inflight)
      AND (p_max_turns IS NULL OR v_turns + 1 <= p_max_turns) LOOP
      v_k := v_k + 1;
      IF p_ts[v_k] >= t.cursor_ts THEN v_turns := v_turns + 1; END IF;
    END LOOP;
    -- started at once: the first m of those (as a2a_relay_start's gate, each after the ones before)
    WHILE v_m < v_k AND (p_max_concurrent IS NULL OR v_running + v_m < p_max_concurrent) AND (v_running + v_m = 0 OR (
        (p_max_tokens IS NULL OR (t.est_tokens IS NOT NULL AND t.tokens + (v_running + v_m + 1) * t.est_tokens <= p_max_tokens))
        AND (p_max_cost IS NULL OR (t.est_tokens IS NOT NULL AND t.cost + (v_running + v_m + 1) * coalesce(t.est_cost, 0) <= p_max_cost)))) LOOP
      v_m := v_m + 1;
    END LOOP;
    IF v_k > 0 THEN
      WITH x AS (
        SELECT i, nextval('budget_ledger_id_seq') AS id FROM generate_series(1, v_k) AS i
      ), ins AS (
        INSERT INTO budget_ledger (id, peer, profile, context_id, task_id, ts, state, holder)
          SELECT x.id, p_peer, p_profile[x.i], p_ctx[x.i], p_task[x.i], p_ts[x.i],
            CASE WHEN x.i <= v_m THEN 'started' ELSE 'reserved' END, p_holder FROM x
      ), p AS (
        UPDATE budget_totals b SET turns = b.turns + s.n
          FROM (SELECT b2.scope, count(*) AS n FROM x JOIN budget_totals b2
              ON b2.scope = p_peer || chr(31) || p_profile[x.i] AND p_ts[x.i] >= b2.cursor_ts
            GROUP BY b2.scope) s
          WHERE b.scope = s.scope
      )
      SELECT array_agg(x.id ORDER BY x.i) INTO v_ids FROM x;
    END IF;
    RETURN QUERY SELECT v_nend + i, v_ids[i], CASE WHEN i > v_k THEN 'refused' WHEN i <= v_m THEN 'started' ELSE 'reserved' END,
        t.turns + coalesce(sum(CASE WHEN i <= v_k AND p_ts[i] >= t.cursor_ts THEN 1 ELSE 0 END)
          OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
        t.tokens, t.cost, v_running + least(i - 1, v_m), v_inflight + least(i - 1, v_k), 0,
        NULL::bigint, NULL::float8, NULL::float8, 0
      FROM generate_series(1, v_n) AS i;
    t.turns := v_turns;
    v_running := v_running + v_m;
    v_inflight := v_inflight + v_k;
  END IF;
  UPDATE budget_totals b SET turns = t.turns, tokens = t.tokens, cost = t.cost, est_tokens = t.est_tokens,
      est_cost = t.est_cost
    WHERE b.scope = p_peer;
  -- as a2a_relay_batch: wake the turns waiting in other relays only when a slot was freed and some turn waits
  IF cardinality(v_done) > 0 AND v_inflight > v_running THEN
    PERFORM pg_notify('a2a_relay_budget', p_peer);
  END IF;
END $$;
