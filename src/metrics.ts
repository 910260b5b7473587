import { readdirSync } from "node:fs";
import { Counter, Gauge, Histogram, Registry } from "./prom-text.ts";

/**
 * Prometheus metrics of one relay process (its own registry; nothing global), written in the text
 * exposition format 0.0.4. Small on purpose: four metrics and a few gauges read at scrape time
 * did not need prom-client, whose loading (with its push gateway, cluster and default-metrics
 * modules) was ~15 ms of the compiled binary's start.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(
    new Counter("a2a_relay_requests_total", "A2A requests by method and outcome"),
  );
  readonly turnDuration = this.registry.add(
    new Histogram(
      "a2a_relay_turn_duration_seconds",
      "Duration of receiver turns by profile and final state",
      [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    ),
  );
  readonly commits = this.registry.add(
    new Histogram(
      "a2a_relay_store_commit_ops",
      "Writes grouped into each SQLite commit (group commit)",
      [1, 2, 4, 8, 16, 32, 64, 128, 256],
      true,
    ),
  );
  readonly turnsRunning = this.registry.add(new Gauge("a2a_relay_turns_running", "Turns running now", 0));
  readonly authFailures = this.registry.add(
    new Counter("a2a_relay_auth_failures_total", "Refused credentials by reason (never the credential)"),
  );
  readonly upstreamFailures = this.registry.add(
    new Counter(
      "a2a_relay_upstream_failures_total",
      "Turns of forwarding profiles (a2a, remote, llm) that failed on their upstream, by profile and reason",
    ),
  );

  /** Build and process facts: version, resident memory, CPU seconds, open fds, start time. */
  processInfo(version: string, runtime: string, startedAt: number): void {
    this.registry.add(
      new Gauge("a2a_relay_build_info", "Version of this relay (value 1)", undefined, (g) =>
        g.set({ version, runtime }, 1),
      ),
    );
    this.registry.add(
      new Gauge("process_start_time_seconds", "Start time of the process (Unix seconds)", undefined, (g) =>
        g.set({}, Math.floor(startedAt / 1000)),
      ),
    );
    this.registry.add(
      new Gauge("process_resident_memory_bytes", "Resident memory size in bytes", undefined, (g) =>
        g.set({}, process.memoryUsage().rss),
      ),
    );
    this.registry.add(
      new Gauge("process_cpu_seconds_total", "User and system CPU time spent (seconds)", undefined, (g) => {
        const u = process.cpuUsage();
        g.set({}, (u.user + u.system) / 1e6);
      }),
    );
    this.registry.add(
      new Gauge("process_open_fds", "Open file descriptors", undefined, (g) => {
        const n = openFds();
        if (n !== undefined) g.set({}, n);
      }),
    );
  }

  /** Count one A2A request; unknown method names share one label so clients can't grow the series. */
  countRequest(method: string, outcome: string): void {
    this.requests.inc({ method: KNOWN_METHODS.has(method) ? method : "other", outcome });
  }

  /** When each certificate this relay serves lapses (Unix seconds), so an alert can fire before. */
  tlsCerts(certs: Array<{ file: string; notAfter: number }>): void {
    this.registry.add(
      new Gauge(
        "a2a_relay_tls_cert_expiry_seconds",
        "When a loaded TLS certificate expires (Unix time, seconds)",
        undefined,
        (g) => {
          for (const c of certs) g.set({ cert: c.file }, Math.floor(c.notAfter / 1000));
        },
      ),
    );
  }

  /** Budget use and limits per peer, read at scrape time. */
  budgets(
    read: () => Array<{
      peer: string;
      limits: Record<string, number>;
      used: { turns: number; tokens: number; cost_usd: number };
      running?: number;
      queued?: number;
    }>,
  ) {
    const useOf = (r: ReturnType<typeof read>[number]): Record<string, number> => ({
      max_turns: r.used.turns,
      max_tokens: r.used.tokens,
      max_cost_usd: r.used.cost_usd,
      max_concurrent: r.running ?? 0,
      max_queued: r.queued ?? 0,
    });
    this.registry.add(
      new Gauge(
        "a2a_relay_budget_used",
        "Budget use per peer and limit (turns, tokens, cost in the window; turns running; turns queued)",
        undefined,
        (g) => {
          for (const r of read()) {
            for (const [limit, v] of Object.entries(useOf(r))) g.set({ peer: r.peer, limit }, v);
          }
        },
      ),
    );
    this.registry.add(
      new Gauge("a2a_relay_budget_limit", "Configured budget limits per peer", undefined, (g) => {
        for (const r of read()) {
          for (const [limit, v] of Object.entries(r.limits)) g.set({ peer: r.peer, limit }, v);
        }
      }),
    );
  }

  /** The shared budget store (`[budgets] store`): up or degraded, turns counted locally, leases reclaimed. */
  budgetStore(stats: { up: boolean; localAdmissions: number; reclaimed: number }) {
    this.registry.add(
      new Gauge(
        "a2a_relay_budget_store_up",
        "1 while the shared budget store answers, 0 while degraded",
        undefined,
        (g) => g.set({}, stats.up ? 1 : 0),
      ),
    );
    this.registry.add(
      new Gauge(
        "a2a_relay_budget_local_admissions",
        "Budgeted turns this relay admitted on its own while the shared store was down (counter)",
        undefined,
        (g) => g.set({}, stats.localAdmissions),
      ),
    );
    this.registry.add(
      new Gauge(
        "a2a_relay_budget_reservations_reclaimed",
        "Reservations of silent relays this relay handed back (counter)",
        undefined,
        (g) => g.set({}, stats.reclaimed),
      ),
    );
  }

  /** Gauges read at scrape time. */
  collect(opts: {
    tasksByState: () => Array<{ state: string; n: number }>;
    queueDepth: () => number;
    subscribers: () => number;
    walBytes: () => number;
  }) {
    this.registry.add(
      new Gauge("a2a_relay_tasks", "Tasks in the database by state", undefined, (g) => {
        for (const r of opts.tasksByState()) g.set({ state: r.state }, r.n);
      }),
    );
    this.registry.add(
      new Gauge(
        "a2a_relay_queue_depth",
        "Turns waiting behind a running turn on the same conversation",
        undefined,
        (g) => g.set({}, opts.queueDepth()),
      ),
    );
    this.registry.add(
      new Gauge(
        "a2a_relay_subscribers",
        "Live task subscriptions (streams and blocking calls)",
        undefined,
        (g) => g.set({}, opts.subscribers()),
      ),
    );
    this.registry.add(
      new Gauge(
        "a2a_relay_wal_bytes",
        "Size of relay.db's write-ahead log (grows when checkpoints cannot keep up with writes)",
        undefined,
        (g) => g.set({}, opts.walBytes()),
      ),
    );
  }
}

// internal

function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

const KNOWN_METHODS = new Set([
  "SendMessage",
  "SendStreamingMessage",
  "GetTask",
  "ListTasks",
  "CancelTask",
  "SubscribeToTask",
  "CreateTaskPushNotificationConfig",
  "GetTaskPushNotificationConfig",
  "ListTaskPushNotificationConfigs",
  "DeleteTaskPushNotificationConfig",
  "GetExtendedAgentCard",
  "message/send",
  "message/stream",
  "tasks/get",
  "tasks/cancel",
  "tasks/resubscribe",
  "tasks/pushNotificationConfig/set",
  "tasks/pushNotificationConfig/get",
  "tasks/pushNotificationConfig/list",
  "tasks/pushNotificationConfig/delete",
  "agent/getAuthenticatedExtendedCard",
]);
