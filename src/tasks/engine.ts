import type { ListTasksParams, ListTasksResult, Task } from "../a2a/types.ts";
import { realTimers } from "../clock.ts";
import { uuidv7 } from "../ids.ts";
import { TaskBus as Bus, type TaskBus, type TaskEvent } from "./bus.ts";
import { cancel } from "./cancel.ts";
import { ContextQueues } from "./context-queue.ts";
import { send } from "./dispatch.ts";
import { list, owned, profileOf, referenced, snapshot, waitSettled, watch } from "./queries.ts";
import { agentMessage, iso, record, recordLater, settle } from "./recording.ts";
import { recover, shutdown } from "./recovery.ts";
import { view } from "./snapshot.ts";
import type { EngineCore, EngineDeps, LiveTask, ResolvedDeps, SendInput } from "./types.ts";

export type { Admission, AdmissionTicket, AdmitRequest } from "./admission.ts";
export type { EngineDeps, EventSink, ProfileTarget, SendInput, TurnMessage } from "./types.ts";

/**
 * The task engine: creates and continues tasks, runs one turn at a time per conversation, records
 * every change as an event (group-committed), and fans committed events out to subscribers.
 * Each job is its own file: dispatch.ts (send), queries.ts (reads), cancel.ts, recovery.ts
 * (restart and shutdown), recording.ts (events), turn.ts (one turn on a receiver).
 */
export class Engine {
  readonly #core: EngineCore;
  readonly #inflightDispatch = new Map<string, Promise<Task>>();
  readonly #stopping = new AbortController();
  readonly #stopped = new AbortController();

  constructor(deps: EngineDeps) {
    const resolved: ResolvedDeps = {
      now: Date.now,
      timers: realTimers,
      newId: () => uuidv7(),
      maxContextQueue: 16,
      hooks: {},
      ...deps,
    };
    const core: EngineCore = {
      deps: resolved,
      bus: new Bus(),
      queues: new ContextQueues(resolved.maxContextQueue),
      live: new Map<string, LiveTask>(),
      closing: false,
      turns: {
        get closing() {
          return core.closing;
        },
        hooks: resolved.hooks,
        timers: resolved.timers,
        now: () => resolved.now(),
        newId: () => resolved.newId(),
        record: (live, event) => record(core, live, event),
        recordLater: (live, event) => recordLater(core, live, event),
        settle: (live, state, text) => settle(core, live, state, text),
        agentMessage: (task, text) => agentMessage(resolved, task, text),
        iso: () => iso(resolved),
        referenced: (peer, ids) => referenced(core, ids, peer),
      },
    };
    this.#core = core;
  }

  get deps(): ResolvedDeps {
    return this.#core.deps;
  }

  get bus(): TaskBus {
    return this.#core.bus;
  }

  get queues(): ContextQueues {
    return this.#core.queues;
  }

  /** Tasks with a turn queued or running in this process (or state still being written). */
  get live(): Map<string, LiveTask> {
    return this.#core.live;
  }

  get closing(): boolean {
    return this.#core.closing;
  }

  /** See recovery.ts: resume or fail what a previous process left. Call once at start. */
  recover(): Promise<number> {
    return recover(this.#core);
  }

  /** See dispatch.ts: create or continue a task and queue its turn (idempotent per message). */
  send(input: SendInput): Promise<Task> {
    return send(this.#core, this.#inflightDispatch, input);
  }

  snapshot(id: string, peer: string): Task {
    return snapshot(this.#core, id, peer);
  }

  /** The task as `snapshot` gives it, with the profile it belongs to. */
  owned(id: string, peer: string): { task: Task; profile: string } {
    return owned(this.#core, id, peer);
  }

  watch(id: string, peer: string, fn: (e: TaskEvent) => void): { task: Task; seq: number; stop: () => void } {
    return watch(this.#core, id, peer, fn);
  }

  waitSettled(id: string, peer: string, signal?: AbortSignal): Promise<Task> {
    return waitSettled(this.#core, id, peer, signal, this.#stopped.signal);
  }

  get(id: string, peer: string, historyLength?: number): Task {
    return view(snapshot(this.#core, id, peer), { historyLength });
  }

  profileOf(id: string): string | undefined {
    return profileOf(this.#core, id);
  }

  list(peer: string, p: ListTasksParams, profile?: string): ListTasksResult {
    return list(this.#core, peer, p, profile);
  }

  cancel(id: string, peer: string): Promise<Task> {
    return cancel(this.#core, id, peer);
  }

  /**
   * Aborted when `shutdown` begins. A stream of a task that will not settle during the stop (one
   * waiting for input or auth: no turn runs for it, and no new one is taken) ends then.
   */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /**
   * Aborted when `shutdown` is over: the turns that could finish have sent their last event; what
   * is still open (a turn left for the next process to resume) ends, so the listener can close.
   */
  get stopped(): AbortSignal {
    return this.#stopped.signal;
  }

  /** Stop taking turns; wait up to `graceMs` for running ones, then fail what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.#stopping.abort();
    try {
      await shutdown(this.#core, graceMs);
    } finally {
      this.#stopped.abort();
    }
  }
}
