/**
 * What the relay keeps in memory about finished turns for its operator (the status page): the
 * last settled tasks and the last failures with their reasons, fed by the turn hooks in server.ts.
 */
export interface SettledTask {
  taskId: string;
  contextId: string;
  peer: string;
  profile: string;
  handler: string;
  state: string;
  ms: number;
  tokens?: number | undefined;
  costUsd?: number | undefined;
  reason?: string | undefined;
  at: number;
}

export class Activity {
  readonly #failures: SettledTask[] = [];
  readonly #recent: SettledTask[] = [];
  readonly #max: number;
  readonly startedAt: number;

  constructor(o: { max?: number; now?: number } = {}) {
    this.#max = o.max ?? 20;
    this.startedAt = o.now ?? Date.now();
  }

  settled(t: SettledTask): void {
    this.#recent.unshift(t);
    if (this.#recent.length > this.#max) this.#recent.length = this.#max;
    if (t.state === "TASK_STATE_COMPLETED" || t.state === "TASK_STATE_INPUT_REQUIRED") return;
    this.#failures.unshift(t);
    if (this.#failures.length > this.#max) this.#failures.length = this.#max;
  }

  /** The last settled tasks, newest first. */
  recent(): readonly SettledTask[] {
    return this.#recent;
  }

  /** Newest first. */
  failures(): readonly SettledTask[] {
    return this.#failures;
  }
}
