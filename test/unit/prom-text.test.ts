import { describe, expect, test } from "bun:test";
import * as pc from "prom-client";
import { Metrics } from "../../src/metrics.ts";

/**
 * prom-text.ts writes the exposition format by hand; prom-client (a dev dependency only) is the
 * reference. The same metrics, fed the same observations, must render the same text.
 */
describe("prom-text.ts against prom-client", () => {
  test("the relay's metrics render exactly as prom-client renders them", async () => {
    const ours = new Metrics();
    const ref = new pc.Registry();
    const def = { registers: [ref] };
    const requests = new pc.Counter({
      name: "a2a_relay_requests_total",
      help: "A2A requests by method and outcome",
      labelNames: ["method", "outcome"],
      ...def,
    });
    const turns = new pc.Histogram({
      name: "a2a_relay_turn_duration_seconds",
      help: "Duration of receiver turns by profile and final state",
      labelNames: ["profile", "state"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      ...def,
    });
    const commits = new pc.Histogram({
      name: "a2a_relay_store_commit_ops",
      help: "Writes grouped into each SQLite commit (group commit)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      ...def,
    });
    const running = new pc.Gauge({ name: "a2a_relay_turns_running", help: "Turns running now", ...def });
    new pc.Counter({
      name: "a2a_relay_auth_failures_total",
      help: "Refused credentials by reason (never the credential)",
      labelNames: ["reason"],
      ...def,
    });
    new pc.Counter({
      name: "a2a_relay_upstream_failures_total",
      help: "Turns of forwarding profiles (a2a, remote, llm) that failed on their upstream, by profile and reason",
      labelNames: ["profile", "reason"],
      ...def,
    });
    const scraped = (name: string, help: string, labelNames: string[], fill: (g: pc.Gauge) => void) =>
      new pc.Gauge({
        name,
        help,
        labelNames,
        ...def,
        collect() {
          this.reset();
          fill(this);
        },
      });

    // the same observations on both sides, odd label values among them
    for (const [method, outcome] of [
      ["SendMessage", "ok"],
      ["SendMessage", "ok"],
      ["tasks/get", "TASK_NOT_FOUND"],
    ] as const) {
      ours.countRequest(method, outcome);
      requests.inc({ method, outcome });
    }
    for (const [profile, state, s] of [
      ["echo", "completed", 0.02],
      ['we"ird\\pro\nfile', "failed", 1000],
      ["echo", "completed", 5],
    ] as const) {
      ours.turnDuration.observe({ profile, state }, s);
      turns.observe({ profile, state }, s);
    }
    for (const n of [1, 3, 300]) {
      ours.commits.observe(n);
      commits.observe(n);
    }
    ours.turnsRunning.inc();
    ours.turnsRunning.inc(2);
    ours.turnsRunning.dec();
    running.inc(2);

    const budget = [
      { peer: "alice", limits: { max_turns: 10 }, used: { turns: 3, tokens: 40, cost_usd: 0.25 } },
    ];
    ours.budgets(() => budget);
    scraped(
      "a2a_relay_budget_used",
      "Budget use per peer and limit (turns, tokens, cost in the window; turns running; turns queued)",
      ["peer", "limit"],
      (g) => {
        for (const [limit, v] of [
          ["max_turns", 3],
          ["max_tokens", 40],
          ["max_cost_usd", 0.25],
          ["max_concurrent", 0],
          ["max_queued", 0],
        ] as const)
          g.set({ peer: "alice", limit }, v);
      },
    );
    scraped("a2a_relay_budget_limit", "Configured budget limits per peer", ["peer", "limit"], (g) =>
      g.set({ peer: "alice", limit: "max_turns" }, 10),
    );
    ours.collect({
      tasksByState: () => [
        { state: "TASK_STATE_COMPLETED", n: 4 },
        { state: "TASK_STATE_FAILED", n: 1 },
      ],
      queueDepth: () => 2,
      subscribers: () => 0,
      walBytes: () => 4096,
    });
    scraped("a2a_relay_tasks", "Tasks in the database by state", ["state"], (g) => {
      g.set({ state: "TASK_STATE_COMPLETED" }, 4);
      g.set({ state: "TASK_STATE_FAILED" }, 1);
    });
    scraped(
      "a2a_relay_queue_depth",
      "Turns waiting behind a running turn on the same conversation",
      [],
      (g) => g.set(2),
    );
    scraped("a2a_relay_subscribers", "Live task subscriptions (streams and blocking calls)", [], (g) =>
      g.set(0),
    );
    scraped(
      "a2a_relay_wal_bytes",
      "Size of relay.db's write-ahead log (grows when checkpoints cannot keep up with writes)",
      [],
      (g) => g.set(4096),
    );
    ours.tlsCerts([{ file: "/etc/relay/cert.pem", notAfter: 1_900_000_000_500 }]);
    scraped(
      "a2a_relay_tls_cert_expiry_seconds",
      "When a loaded TLS certificate expires (Unix time, seconds)",
      ["cert"],
      (g) => g.set({ cert: "/etc/relay/cert.pem" }, 1_900_000_000),
    );

    expect(ours.registry.contentType).toBe(ref.contentType);
    expect(await ours.registry.metrics()).toBe(await ref.metrics());
  });
});
