import type { StreamResponse, Task } from "../a2a/types.ts";

export interface TaskEvent {
  seq: number;
  event: StreamResponse;
  /** The task snapshot after this event. */
  task: Task;
}

export type TaskListener = (e: TaskEvent) => void;

/** In-process fan-out of committed task events to live subscribers (SSE streams, blocking sends). */
export class TaskBus {
  readonly #listeners = new Map<string, Set<TaskListener>>();

  subscribe(taskId: string, fn: TaskListener): () => void {
    let set = this.#listeners.get(taskId);
    if (!set) {
      set = new Set();
      this.#listeners.set(taskId, set);
    }
    set.add(fn);
    return () => {
      const s = this.#listeners.get(taskId);
      if (!s) return;
      s.delete(fn);
      if (s.size === 0) this.#listeners.delete(taskId);
    };
  }

  publish(taskId: string, e: TaskEvent): void {
    const set = this.#listeners.get(taskId);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(e);
      } catch {
        // a broken subscriber must not stop the others
      }
    }
  }

  /** Number of live subscriptions (metrics, leak tests). */
  get size(): number {
    let n = 0;
    for (const s of this.#listeners.values()) n += s.size;
    return n;
  }
}
