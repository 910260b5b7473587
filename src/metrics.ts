import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one relay process (its own registry; nothing global). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "a2a_relay_requests_total",
    help: "A2A requests by method and outcome",
    labelNames: ["method", "outcome"] as const,
    registers: [this.registry],
  });
  readonly turnDuration = new Histogram({
    name: "a2a_relay_turn_duration_seconds",
    help: "Duration of receiver turns by profile and final state",
    labelNames: ["profile", "state"] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });
  readonly commits = new Histogram({
    name: "a2a_relay_store_commit_ops",
    help: "Writes grouped into each SQLite commit (group commit)",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly turnsRunning = new Gauge({
    name: "a2a_relay_turns_running",
    help: "Turns running now",
    registers: [this.registry],
  });

  /** Count one A2A request; unknown method names share one label so clients can't grow the series. */
  countRequest(method: string, outcome: string): void {
    this.requests.inc({ method: KNOWN_METHODS.has(method) ? method : "other", outcome });
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
    new Gauge({
      name: "a2a_relay_budget_used",
      help: "Budget use per peer and limit (turns, tokens, cost in the window; turns running; turns queued)",
      labelNames: ["peer", "limit"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of read()) {
          for (const [limit, v] of Object.entries(useOf(r))) this.set({ peer: r.peer, limit }, v);
        }
      },
    });
    new Gauge({
      name: "a2a_relay_budget_limit",
      help: "Configured budget limits per peer",
      labelNames: ["peer", "limit"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of read()) {
          for (const [limit, v] of Object.entries(r.limits)) this.set({ peer: r.peer, limit }, v);
        }
      },
    });
  }

  /** Gauges read at scrape time. */
  collect(opts: {
    tasksByState: () => Array<{ state: string; n: number }>;
    queueDepth: () => number;
    subscribers: () => number;
  }) {
    new Gauge({
      name: "a2a_relay_tasks",
      help: "Tasks in the database by state",
      labelNames: ["state"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of opts.tasksByState()) this.set({ state: r.state }, r.n);
      },
    });
    new Gauge({
      name: "a2a_relay_queue_depth",
      help: "Turns waiting behind a running turn on the same conversation",
      registers: [this.registry],
      collect() {
        this.set(opts.queueDepth());
      },
    });
    new Gauge({
      name: "a2a_relay_subscribers",
      help: "Live task subscriptions (streams and blocking calls)",
      registers: [this.registry],
      collect() {
        this.set(opts.subscribers());
      },
    });
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
