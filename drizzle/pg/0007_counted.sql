CREATE TABLE "budget_open" (
	"peer" text NOT NULL,
	"lease" bigint NOT NULL,
	"started" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "budget_open_peer_lease_pk" PRIMARY KEY("peer","lease")
);
--> statement-breakpoint
CREATE TABLE "budget_usage" (
	"peer" text NOT NULL,
	"ts" bigint NOT NULL,
	"profile" text NOT NULL,
	"gen" bigint NOT NULL,
	"turns" bigint DEFAULT 0 NOT NULL,
	"tokens" double precision DEFAULT 0 NOT NULL,
	"cost" double precision DEFAULT 0 NOT NULL,
	"max_tokens" double precision,
	"max_cost" double precision,
	CONSTRAINT "budget_usage_peer_ts_profile_gen_pk" PRIMARY KEY("peer","ts","profile","gen")
);
--> statement-breakpoint
ALTER TABLE "budget_relays" ADD COLUMN "lease" bigserial NOT NULL;--> statement-breakpoint
-- Fewer rows per turn (a2a-relay: src/budgets/pg/store.ts). A turn admitted and started in the same
-- call of a peer without per-conversation or per-profile limits is no longer a row of
-- budget_ledger (an INSERT at admission and an UPDATE to settle it, ~20 µs each in the server): it
-- is counted. Its usage goes to the peer's row of that second in budget_usage (one upsert per
-- call for all the second's admissions, one update per call for the ends), its being open to the
-- relay lease's counter in budget_open (one upsert per call). A turn that waits for a slot, a
-- turn of a peer with per-conversation or per-profile limits, an imported turn, and every row
-- from before this migration stay rows of budget_ledger and count as before; every function
-- below counts both.
--
-- Rows of budget_usage count in a window as the ledger's rows do (ts >= the window's start; their
-- ts is the second's last millisecond) and only for the peer's current reset (gen = after_id).
-- A reset now takes a fresh after_id from the ledger's sequence, so each reset has its own.
--
-- A window's sum from scratch (a2a_relay_totals): the ledger's rows and the counted seconds.
CREATE OR REPLACE FUNCTION a2a_relay_sum(p_peer text, p_profile text, p_after bigint, p_since bigint,
  OUT turns bigint, OUT tokens float8, OUT cost float8, OUT est_tokens float8, OUT est_cost float8)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  u record;
BEGIN
  SELECT count(*), coalesce(sum(l.tokens), 0)::float8, coalesce(sum(l.cost_usd), 0)::float8,
    max(l.tokens) FILTER (WHERE l.state = 'settled')::float8, max(l.cost_usd) FILTER (WHERE l.state = 'settled')
    INTO turns, tokens, cost, est_tokens, est_cost FROM budget_ledger l
    WHERE l.peer = p_peer AND l.id > p_after AND l.ts >= p_since AND l.state <> 'refunded'
      AND (p_profile IS NULL OR l.profile = p_profile);
  SELECT coalesce(sum(b.turns), 0)::bigint AS turns, coalesce(sum(b.tokens), 0)::float8 AS tokens,
    coalesce(sum(b.cost), 0)::float8 AS cost, max(b.max_tokens) AS mt, max(b.max_cost) AS mc
    INTO u FROM budget_usage b
    WHERE b.peer = p_peer AND b.ts >= p_since AND b.gen = p_after AND (p_profile IS NULL OR b.profile = p_profile);
  turns := turns + u.turns;
  tokens := tokens + u.tokens;
  cost := cost + u.cost;
  est_tokens := greatest(est_tokens, u.mt);
  est_cost := greatest(est_cost, u.mc);
END $$;
--> statement-breakpoint
-- What left a window between two of its starts: the ledger's rows and the counted seconds.
CREATE OR REPLACE FUNCTION a2a_relay_left(p_peer text, p_profile text, p_after bigint, p_from bigint, p_to bigint,
  OUT turns bigint, OUT tokens float8, OUT cost float8)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  u record;
BEGIN
  SELECT count(*), coalesce(sum(l.tokens), 0)::float8, coalesce(sum(l.cost_usd), 0)::float8
    INTO turns, tokens, cost FROM budget_ledger l
    WHERE l.peer = p_peer AND l.id > p_after AND l.ts >= p_from AND l.ts < p_to AND l.state <> 'refunded'
      AND (p_profile IS NULL OR l.profile = p_profile);
  SELECT coalesce(sum(b.turns), 0)::bigint AS turns, coalesce(sum(b.tokens), 0)::float8 AS tokens,
    coalesce(sum(b.cost), 0)::float8 AS cost
    INTO u FROM budget_usage b
    WHERE b.peer = p_peer AND b.ts >= p_from AND b.ts < p_to AND b.gen = p_after
      AND (p_profile IS NULL OR b.profile = p_profile);
  turns := turns + u.turns;
  tokens := tokens + u.tokens;
  cost := cost + u.cost;
END $$;
--> statement-breakpoint
-- As in 0006, the rows-left probe also over the counted seconds.
CREATE OR REPLACE FUNCTION a2a_relay_totals(p_peer text, p_profile text, p_wnd text, p_since bigint, p_after bigint)
RETURNS budget_totals LANGUAGE plpgsql AS $$
DECLARE
  v_scope text := CASE WHEN p_profile IS NULL THEN p_peer ELSE p_peer || chr(31) || p_profile END;
  t budget_totals;
  s record;
  v_next bigint;
  v_nextb bigint;
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
    -- the oldest row and the oldest counted second at or after the cursor (ordered probes of
    -- budget_ledger_peer_ts and of budget_usage's key): when none is older than p_since, nothing
    -- left the window; the cursor returned moves, the stored one stays until something does leave
    SELECT l.ts INTO v_next FROM budget_ledger l WHERE l.peer = p_peer AND l.ts >= t.cursor_ts
      ORDER BY l.peer, l.ts LIMIT 1;
    SELECT b.ts INTO v_nextb FROM budget_usage b WHERE b.peer = p_peer AND b.ts >= t.cursor_ts
      ORDER BY b.peer, b.ts LIMIT 1;
    v_next := least(v_next, v_nextb);
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
-- The peer's open turns: its open rows and its counted running turns (every lease's).
CREATE OR REPLACE FUNCTION a2a_relay_open(p_peer text, OUT running integer, OUT inflight integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_open integer;
BEGIN
  SELECT count(*) FILTER (WHERE l.state = 'started'), count(*) INTO running, inflight
    FROM budget_ledger l WHERE l.peer = p_peer AND l.state IN ('reserved', 'started');
  SELECT coalesce(sum(o.started), 0) INTO v_open FROM budget_open o WHERE o.peer = p_peer;
  running := running + v_open;
  inflight := inflight + v_open;
END $$;
--> statement-breakpoint
-- a2a_relay_turns with counted turns (a2a-relay: src/budgets/pg/store.ts calls it for the same
-- calls as a2a_relay_turns: ends and admissions of a peer without per-conversation or per-profile
-- limits, no waiting turn to start). The checks are a2a_relay_turns', in the same order. Of the k
-- admitted, the first m start at once: when this relay holds a lease (its budget_relays row), those
-- m are counted (an upsert of their second's row in budget_usage, one of the lease's counter)
-- instead of written as rows; the others are rows ('reserved', or all k when the relay has no
-- lease: it was handed back and has not registered again yet). p_ts are the admissions' seconds
-- (their last millisecond). Ends: p_end_* of rows (by id); counted ones as the relay grouped them:
-- per lease (p_lease, p_lease_n: how many), and per lease, second, reset and profile (p_g*: how
-- many, refunded, tokens, cost, largest usage of one). A lease whose counter is gone (handed back)
-- loses its ends: they change nothing. Simple statements, one per group (mostly one or two a
-- call): a statement's start-up is most of what a call costs the server.
-- One row: the ends lost (row ids; leases), the lease and reset the counted admissions were
-- counted under, k, m, the ids of the admissions written as rows (in order), and the use a refused
-- admission was checked against (all refused ones come after the k admitted).
CREATE OR REPLACE FUNCTION a2a_relay_count(
  p_peer text, p_holder text, p_now bigint, p_wnd text, p_since bigint,
  p_max_turns bigint, p_max_tokens float8, p_max_cost float8, p_max_inflight bigint, p_max_concurrent bigint,
  p_end_id bigint[], p_end_refund boolean[], p_end_tokens float8[], p_end_cost float8[],
  p_lease bigint[], p_lease_n bigint[],
  p_glease bigint[], p_gts bigint[], p_ggen bigint[], p_gprofile text[], p_gn bigint[], p_grefunds bigint[],
  p_gtokens float8[], p_gcost float8[], p_gmt float8[], p_gmc float8[],
  p_profile text[], p_ctx text[], p_task text[], p_ts bigint[],
  OUT o_lost bigint[], OUT o_lost_leases bigint[], OUT o_lease bigint, OUT o_gen bigint, OUT o_k integer,
  OUT o_m integer, OUT o_ids bigint[], OUT o_turns bigint, OUT o_tokens float8, OUT o_cost float8,
  OUT o_running integer, OUT o_inflight integer)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_after bigint;
  v_lease bigint;
  v_ptot boolean;
  t budget_totals;
  v_nend integer := coalesce(cardinality(p_end_id), 0);
  v_n integer := coalesce(cardinality(p_ts), 0);
  v_done bigint[] := '{}';
  v_freed boolean := false;
  v_held bigint[] := '{}';
  v_running integer;
  v_inflight integer;
  v_open integer;
  v_turns bigint;
  v_refunds bigint;
  v_tokens float8;
  v_cost float8;
  v_mt float8;
  v_mc float8;
  v_refuse boolean;
  v_k integer := 0;
  v_m integer := 0;
  v_c integer := 0;
  v_i integer;
  v_j integer;
  v_ids bigint[] := '{}';
BEGIN
  -- as a2a_relay_lock, inline
  PERFORM pg_advisory_xact_lock(hashtextextended('a2a-relay-budget:' || p_peer, 0));
  -- the peer's reset; this relay's lease (none: handed back, not registered again yet); whether
  -- any of the peer's profiles has running totals (kept by relays with limits on a profile)
  SELECT coalesce((SELECT max(x.after_id) FROM budget_resets x WHERE x.peer = p_peer), 0),
    (SELECT r.lease FROM budget_relays r WHERE r.id = p_holder),
    EXISTS (SELECT 1 FROM budget_totals b WHERE b.peer = p_peer AND b.profile IS NOT NULL)
    INTO v_after, v_lease, v_ptot;
  t := a2a_relay_totals(p_peer, NULL, p_wnd, p_since, v_after);
  IF v_nend > 0 THEN
    -- the rows' ends, as a2a_relay_turns
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
    v_freed := cardinality(v_done) > 0;
  END IF;
  o_lost_leases := '{}';
  -- the counted turns' ends: each lease's counter down by its ends (gone: handed back, lost) ...
  FOR v_i IN 1 .. coalesce(cardinality(p_lease), 0) LOOP
    UPDATE budget_open o SET started = o.started - p_lease_n[v_i]
      WHERE o.peer = p_peer AND o.lease = p_lease[v_i] AND o.started >= p_lease_n[v_i];
    IF FOUND THEN
      v_held := v_held || p_lease[v_i];
      v_freed := true;
    ELSE
      o_lost_leases := o_lost_leases || p_lease[v_i];
    END IF;
  END LOOP;
  -- ... their seconds' usage, and the totals of the windows they count in
  FOR v_i IN 1 .. coalesce(cardinality(p_glease), 0) LOOP
    CONTINUE WHEN NOT (p_glease[v_i] = ANY (v_held));
    UPDATE budget_usage b SET turns = b.turns - p_grefunds[v_i], tokens = b.tokens + p_gtokens[v_i],
        cost = b.cost + p_gcost[v_i], max_tokens = greatest(b.max_tokens, p_gmt[v_i]),
        max_cost = greatest(b.max_cost, p_gmc[v_i])
      WHERE b.peer = p_peer AND b.ts = p_gts[v_i] AND b.profile = p_gprofile[v_i] AND b.gen = p_ggen[v_i];
    IF v_ptot THEN
      UPDATE budget_totals b SET turns = b.turns - p_grefunds[v_i], tokens = b.tokens + p_gtokens[v_i],
          cost = b.cost + p_gcost[v_i],
          est_tokens = CASE WHEN p_gmt[v_i] IS NULL THEN b.est_tokens ELSE greatest(coalesce(b.est_tokens, 0), p_gmt[v_i]) END,
          est_cost = CASE WHEN p_gmt[v_i] IS NULL THEN b.est_cost ELSE greatest(coalesce(b.est_cost, 0), p_gmc[v_i]) END
        WHERE b.scope = p_peer || chr(31) || p_gprofile[v_i] AND p_gts[v_i] >= b.cursor_ts AND p_ggen[v_i] = b.after_id;
    END IF;
    IF p_gts[v_i] >= t.cursor_ts AND p_ggen[v_i] = t.after_id THEN
      t.turns := t.turns - p_grefunds[v_i];
      t.tokens := t.tokens + p_gtokens[v_i];
      t.cost := t.cost + p_gcost[v_i];
      IF p_gmt[v_i] IS NOT NULL THEN
        t.est_tokens := greatest(coalesce(t.est_tokens, 0), p_gmt[v_i]);
        t.est_cost := greatest(coalesce(t.est_cost, 0), p_gmc[v_i]);
      END IF;
    END IF;
  END LOOP;
  -- the peer's open turns once the ends are written: its open rows and its counted running turns
  SELECT count(*) FILTER (WHERE l.state = 'started'), count(*) INTO v_running, v_inflight
    FROM budget_ledger l WHERE l.peer = p_peer AND l.state IN ('reserved', 'started');
  SELECT coalesce(sum(o.started), 0) INTO v_open FROM budget_open o WHERE o.peer = p_peer;
  v_running := v_running + v_open;
  v_inflight := v_inflight + v_open;
  v_turns := t.turns;
  IF v_n > 0 THEN
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
    IF v_lease IS NOT NULL THEN v_c := v_m; END IF;
    -- counted: one upsert per run of admissions in the same second on the same profile
    v_i := 1;
    WHILE v_i <= v_c LOOP
      v_j := v_i;
      WHILE v_j < v_c AND p_ts[v_j + 1] = p_ts[v_i] AND p_profile[v_j + 1] = p_profile[v_i] LOOP
        v_j := v_j + 1;
      END LOOP;
      INSERT INTO budget_usage AS b (peer, ts, profile, gen, turns)
        VALUES (p_peer, p_ts[v_i], p_profile[v_i], v_after, v_j - v_i + 1)
        ON CONFLICT (peer, ts, profile, gen) DO UPDATE SET turns = b.turns + excluded.turns;
      IF v_ptot THEN
        UPDATE budget_totals b SET turns = b.turns + (v_j - v_i + 1)
          WHERE b.scope = p_peer || chr(31) || p_profile[v_i] AND p_ts[v_i] >= b.cursor_ts AND b.after_id = v_after;
      END IF;
      v_i := v_j + 1;
    END LOOP;
    IF v_c > 0 THEN
      INSERT INTO budget_open AS o (peer, lease, started) VALUES (p_peer, v_lease, v_c)
        ON CONFLICT (peer, lease) DO UPDATE SET started = o.started + excluded.started;
    END IF;
    IF v_k > v_c THEN
      -- the others are rows, as a2a_relay_turns writes them
      WITH x AS (
        SELECT i, nextval('budget_ledger_id_seq') AS id FROM generate_series(v_c + 1, v_k) AS i
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
    t.turns := v_turns;
    v_running := v_running + v_m;
    v_inflight := v_inflight + v_k;
  END IF;
  UPDATE budget_totals b SET turns = t.turns, tokens = t.tokens, cost = t.cost, est_tokens = t.est_tokens,
      est_cost = t.est_cost
    WHERE b.scope = p_peer;
  -- as a2a_relay_batch: wake the turns waiting in other relays only when a slot was freed and some turn waits
  IF v_freed AND v_inflight > v_running THEN
    PERFORM pg_notify('a2a_relay_budget', p_peer);
  END IF;
  o_lost := '{}';
  IF v_nend > cardinality(v_done) THEN
    o_lost := ARRAY(SELECT x FROM unnest(p_end_id) AS x WHERE x <> ALL (v_done));
  END IF;
  o_lease := CASE WHEN v_c > 0 THEN v_lease END;
  o_gen := v_after;
  o_k := v_k;
  o_m := v_m;
  o_ids := v_ids;
  o_turns := v_turns;
  o_tokens := t.tokens;
  o_cost := t.cost;
  o_running := v_running;
  o_inflight := v_inflight;
END $$;
--> statement-breakpoint
-- a2a_relay_batch (0003) for calls that start waiting turns or check per-conversation or
-- per-profile limits: its admissions stay rows; new: the ends of counted turns ({"k":"c","lease",
-- "ts","gen","profile","refund","tokens","cost"}: 'done', or 'lost' when the lease's counter is
-- gone), and the peer's open turns counted with the counted ones (a2a_relay_open).
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
  SELECT * INTO v_running, v_inflight FROM a2a_relay_open(p_peer);
  FOR o IN SELECT * FROM jsonb_to_recordset(p_ops) AS x(k text, id bigint, refund boolean, tokens float8,
      cost float8, profile text, ctx text, task text, ts bigint, start boolean, pwnd text, psince bigint,
      pmax_turns bigint, pmax_tokens float8, pmax_cost float8, pmax_ctx bigint, lease bigint, gen bigint) LOOP
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
    ELSIF o.k = 'c' THEN
      -- a counted turn's end (a2a_relay_count): its lease's counter, its second's usage, the totals
      UPDATE budget_open x SET started = x.started - 1
        WHERE x.peer = p_peer AND x.lease = o.lease AND x.started >= 1;
      IF NOT FOUND THEN
        o_status := 'lost';
      ELSE
        UPDATE budget_usage b SET turns = b.turns - CASE WHEN o.refund THEN 1 ELSE 0 END,
            tokens = b.tokens + CASE WHEN o.refund THEN 0 ELSE o.tokens END,
            cost = b.cost + CASE WHEN o.refund THEN 0 ELSE o.cost END,
            max_tokens = CASE WHEN o.refund THEN b.max_tokens ELSE greatest(b.max_tokens, o.tokens) END,
            max_cost = CASE WHEN o.refund THEN b.max_cost ELSE greatest(b.max_cost, o.cost) END
          WHERE b.peer = p_peer AND b.ts = o.ts AND b.profile = o.profile AND b.gen = o.gen;
        IF o.ts >= t.cursor_ts AND o.gen = t.after_id THEN
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
            WHERE b.scope = p_peer || chr(31) || o.profile AND o.ts >= b.cursor_ts AND o.gen = b.after_id;
        ELSE
          UPDATE budget_totals b SET tokens = b.tokens + o.tokens, cost = b.cost + o.cost,
              est_tokens = greatest(coalesce(b.est_tokens, 0), o.tokens),
              est_cost = greatest(coalesce(b.est_cost, 0), o.cost)
            WHERE b.scope = p_peer || chr(31) || o.profile AND o.ts >= b.cursor_ts AND o.gen = b.after_id;
        END IF;
        v_running := v_running - 1;
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
-- One counted turn's end on its own (a relay's unwritten ends after an outage), as a2a_relay_finish
-- for a row: false when the lease's counter is gone (handed back meanwhile).
CREATE OR REPLACE FUNCTION a2a_relay_uncount(p_peer text, p_lease bigint, p_ts bigint, p_gen bigint, p_profile text,
  p_refund boolean, p_tokens float8, p_cost float8)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  UPDATE budget_open x SET started = x.started - 1 WHERE x.peer = p_peer AND x.lease = p_lease AND x.started >= 1;
  IF NOT FOUND THEN RETURN false; END IF;
  UPDATE budget_usage b SET turns = b.turns - CASE WHEN p_refund THEN 1 ELSE 0 END,
      tokens = b.tokens + CASE WHEN p_refund THEN 0 ELSE p_tokens END,
      cost = b.cost + CASE WHEN p_refund THEN 0 ELSE p_cost END,
      max_tokens = CASE WHEN p_refund THEN b.max_tokens ELSE greatest(b.max_tokens, p_tokens) END,
      max_cost = CASE WHEN p_refund THEN b.max_cost ELSE greatest(b.max_cost, p_cost) END
    WHERE b.peer = p_peer AND b.ts = p_ts AND b.profile = p_profile AND b.gen = p_gen;
  IF p_refund THEN
    UPDATE budget_totals b SET turns = b.turns - 1
      WHERE b.scope IN (p_peer, p_peer || chr(31) || p_profile) AND p_ts >= b.cursor_ts AND p_gen = b.after_id;
  ELSE
    UPDATE budget_totals b SET tokens = b.tokens + p_tokens, cost = b.cost + p_cost,
        est_tokens = greatest(coalesce(b.est_tokens, 0), p_tokens), est_cost = greatest(coalesce(b.est_cost, 0), p_cost)
      WHERE b.scope IN (p_peer, p_peer || chr(31) || p_profile) AND p_ts >= b.cursor_ts AND p_gen = b.after_id;
  END IF;
  IF EXISTS (SELECT 1 FROM budget_ledger l WHERE l.peer = p_peer AND l.state = 'reserved') THEN
    PERFORM pg_notify('a2a_relay_budget', p_peer);
  END IF;
  RETURN true;
END $$;
--> statement-breakpoint
-- As in 0002, and a dead relay's counted turns too: its lease's counters are deleted under each
-- peer's lock (its running counted turns then count as turns of unknown usage, as its started
-- rows do), in the same transaction that deletes its budget_relays row: exactly once.
CREATE OR REPLACE FUNCTION a2a_relay_reap(p_lease_s float8, p_now bigint, p_self text DEFAULT NULL)
RETURNS TABLE (relays integer, refunded integer, settled integer) LANGUAGE plpgsql AS $$
DECLARE
  d record;
  r record;
  c record;
  v_n bigint;
  v_relays integer := 0;
  v_refunded integer := 0;
  v_settled integer := 0;
BEGIN
  -- SKIP LOCKED: a row another reaper is deleting is its to hand back (and no two reapers deadlock)
  FOR d IN DELETE FROM budget_relays x WHERE x.id IN (
      SELECT y.id FROM budget_relays y
      WHERE (p_self IS NULL AND y.heartbeat_at < now() - make_interval(secs => p_lease_s)) OR y.id = p_self
      FOR UPDATE SKIP LOCKED)
      RETURNING x.id, x.lease LOOP
    v_relays := v_relays + 1;
    FOR r IN SELECT l.id, l.state FROM budget_ledger l WHERE l.holder = d.id AND l.state IN ('reserved', 'started') LOOP
      IF a2a_relay_finish(r.id, d.id, r.state = 'reserved', 0, 0, p_now) THEN
        IF r.state = 'reserved' THEN v_refunded := v_refunded + 1; ELSE v_settled := v_settled + 1; END IF;
      END IF;
    END LOOP;
    FOR c IN SELECT o.peer FROM budget_open o WHERE o.lease = d.lease ORDER BY o.peer LOOP
      PERFORM a2a_relay_lock(c.peer);
      v_n := NULL;
      DELETE FROM budget_open o WHERE o.peer = c.peer AND o.lease = d.lease RETURNING o.started INTO v_n;
      v_settled := v_settled + coalesce(v_n, 0)::integer;
      IF coalesce(v_n, 0) > 0 AND EXISTS (SELECT 1 FROM budget_ledger l WHERE l.peer = c.peer AND l.state = 'reserved') THEN
        PERFORM pg_notify('a2a_relay_budget', c.peer);
      END IF;
    END LOOP;
  END LOOP;
  RETURN QUERY SELECT v_relays, v_refunded, v_settled;
END $$;
--> statement-breakpoint
-- As in 0002, with an after_id of its own for each reset (the ledger's next id): counted seconds
-- count only for the reset they were counted under (gen), and two resets with no new row between
-- them are still two.
CREATE OR REPLACE FUNCTION a2a_relay_reset(p_peer text, p_now bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM a2a_relay_lock(p_peer);
  INSERT INTO budget_resets (peer, after_id, reset_at)
    VALUES (p_peer, nextval('budget_ledger_id_seq'), p_now)
    ON CONFLICT (peer) DO UPDATE SET after_id = excluded.after_id, reset_at = excluded.reset_at;
  DELETE FROM budget_totals WHERE peer = p_peer;
END $$;
--> statement-breakpoint
-- a2a_relay_turns (0005), for relays of the version before this one during an upgrade: unchanged
-- but for the open turns, counted ones included (a2a_relay_open).
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
  SELECT * INTO v_running, v_inflight FROM a2a_relay_open(p_peer);
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
--> statement-breakpoint
-- a2a_relay_admit and a2a_relay_start (0002), for relays older still: the same, counted turns included.
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
  SELECT * INTO v_running, v_inflight FROM a2a_relay_open(p_peer);
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
  SELECT o.running INTO v_running FROM a2a_relay_open(p_peer) o;
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
