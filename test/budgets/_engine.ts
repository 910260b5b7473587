import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message, Task } from "../../src/a2a/types.ts";
import { Budgets, budgetsFromConfig, LedgerStore } from "../../src/budgets/index.ts";
import type { BudgetConfig } from "../../src/config/schema.ts";
import { echoReceiver } from "../../src/receivers/echo.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { Writer } from "../../src/store/writer.ts";
import { Engine } from "../../src/tasks/engine.ts";
import { TaskRepo } from "../../src/tasks/repo.ts";

/** A settable clock: budgets read it; nothing sleeps. */
export class Clock {
  constructor(public t = Date.UTC(2026, 0, 10, 12, 0, 0)) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), "a2a-budget-")), "relay.db");
}

export type BudgetInput = Partial<BudgetConfig>;

/** Engine + budgets on a real SQLite file, echo receiver, peer `bot` with `budget`. */
export function engineWithBudget(budget: BudgetInput, clock: Clock, dbPath = tempDb()) {
  const store: Store = openStore(currentRuntime(), dbPath);
  const writer = new Writer(store.conn);
  const ledger = new LedgerStore(store.db);
  const budgets = new Budgets({
    store: ledger,
    writer,
    budgets: budgetsFromConfig({ bot: { budget: { window: "24h", max_queued: 16, ...budget } } }),
    now: clock.now,
  });
  const engine = new Engine({
    repo: new TaskRepo(store.db),
    writer,
    profiles: new Map([["echo", { name: "echo", receiver: echoReceiver(), timeoutMs: 10_000 }]]),
    admission: budgets,
  });
  return {
    store,
    writer,
    ledger,
    budgets,
    engine,
    dbPath,
    /** Send as `bot` and wait for the task to settle. */
    async turn(text = "a b", extra: Partial<Message> = {}): Promise<Task> {
      const t = await engine.send({ peer: "bot", profile: "echo", origin: "a2a", message: msg(text, extra) });
      return engine.waitSettled(t.id, "bot");
    },
    async close() {
      await engine.shutdown(1000);
      writer.close();
      store.close();
    },
  };
}

export const msg = (text: string, extra: Partial<Message> = {}): Message => ({
  messageId: crypto.randomUUID(),
  role: "ROLE_USER",
  parts: [{ text }],
  ...extra,
});

/** The RelayError a refused dispatch throws (fails the test if it was admitted). */
export async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as {
      code: number;
      reason: string;
      data: Record<string, unknown>;
      headers: Record<string, string>;
    };
  }
  throw new Error("expected the dispatch to be refused");
}
