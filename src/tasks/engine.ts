import type {
  ListTasksParams,
  ListTasksResult,
  Message,
  StreamResponse,
  Task,
  TaskState,
} from "../a2a/types.ts";
import { isSettled, isTerminal } from "../a2a/types.ts";
import {
  invalidParams,
  RelayError,
  storageUnavailable,
  taskNotCancelable,
  taskNotFound,
  unsupportedOperation,
} from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import type { Receiver, RequestExtras, Usage } from "../receivers/types.ts";
import type { StorageHealth } from "../store/health.ts";
import type { Writer } from "../store/writer.ts";
import { TaskBus as Bus, type TaskBus, type TaskEvent } from "./bus.ts";
import { ContextQueues } from "./context-queue.ts";
import { decodePageToken, encodePageToken } from "./page-token.ts";
import type { TaskRepo, TaskRow } from "./repo.ts";
import { applyEvent, view } from "./snapshot.ts";
import { resumeTurn, runTurn } from "./turn.ts";

export interface ProfileTarget {
  name: string;
  receiver: Receiver;
  timeoutMs: number;
}

export interface EngineHooks {
  turnStarted?(profile: string): void;
  turnFinished?(profile: string, state: TaskState, ms: number): void;
  /** A turn's input (dir "in", when it starts) and its final reply (dir "out"): transcripts. */
  turnMessage?(m: TurnMessage): void;
}

export interface TurnMessage {
  peer: string;
  profile: string;
  origin: "a2a" | "local";
  contextId: string;
  taskId: string;
  dir: "in" | "out";
  message: Message;
  state?: TaskState;
  usage?: Usage;
}

/** What admission control (budgets) is asked about one turn. */
export interface AdmitRequest {
  peer: string;
  profile: string;
  contextId: string;
  taskId: string;
  origin: "a2a" | "local";
}

/**
 * Admission control, injected (the engine knows nothing of budgets). `admit` runs synchronously
 * (or, for a ledger on a shared store, returns a promise: the dispatch then waits for it)
 * inside the dispatch, before the task or turn is recorded: throw (a RelayError) to refuse.
 */
export interface Admission {
  admit(req: AdmitRequest): AdmissionTicket | undefined | Promise<AdmissionTicket | undefined>;
}

export interface AdmissionTicket {
  /** Resolves when the turn may start; rejects if `signal` aborts or it may no longer start. */
  acquire(signal: AbortSignal): Promise<void>;
  /** The turn ran (whatever its outcome): record the receiver's usage, free its slot. */
  settle(usage: Usage | undefined): void;
  /** The turn never started: give its reservation back. */
  refund(): void;
}

/**
 * Sees every task event inside the transaction that records it (the push outbox), and hears once
 * that transaction has committed.
 */
export interface EventSink {
  /** Synchronous, inside the writer's transaction. Returns true when it queued work. */
  written(taskId: string, event: StreamResponse, task: Task): boolean;
  committed(): void;
}

export interface EngineDeps {
  repo: TaskRepo;
  writer: Writer;
  profiles: ReadonlyMap<string, ProfileTarget>;
  now?: () => number;
  newId?: () => string;
  maxContextQueue?: number;
  hooks?: EngineHooks;
  admission?: Admission | undefined;
  events?: EventSink | undefined;
  /** Free disk and write health: refuses new tasks, hears of failed writes (absent: no checks). */
  storage?: StorageHealth | undefined;
}

export interface SendInput {
  peer: string;
  profile: string;
  origin: "a2a" | "local";
  message: Message;
  /** Relay forwards before this one (`A2A-Relay-Hops`), passed to the receiver. */
  hops?: number;
  /** Someone may follow the turn's progress (a stream, or the task returned at once): see Turn. */
  progress?: boolean;
  /** The request's metadata and configuration, passed to the receiver (forwarded upstream). */
  request?: RequestExtras | undefined;
  /**
   * Whether a message already dispatched to task `taskId` came in this same request (what the
   * engine does not see, e.g. its push config): a retry only if so. Absent: nothing more to check.
   */
  sameRequest?: ((taskId: string) => boolean) | undefined;
  /** Runs inside the transaction that creates the task (e.g. storing its push config). */
  onCreated?: (taskId: string) => void;
}

/** A task with a turn queued or running in this process. */
export interface LiveTask {
  id: string;
  peer: string;
  profile: string;
  contextId: string;
  origin: "a2a" | "local";
  createdAt: number;
  pending: Task;
  pendingSeq: number;
  committed: Task;
  committedSeq: number;
  queueKey: string;
  hops?: number;
  progress?: boolean;
  request?: RequestExtras | undefined;
  start?: () => void;
  /** The running turn waits for a post-back and can be resumed by the next process. */
  detachable?: boolean;
  /** The turn can be resumed by the next process: a shutdown past the grace detaches it. */
  resumable?: boolean;
  /** A turn is queued or running for it in this process. */
  busy?: boolean;
  /**
   * Events whose write failed (disk full, I/O error), oldest first: the task's state lives in
   * memory and is written again, with backoff, until it lands.
   */
  unwritten?: Array<{ seq: number; event: StreamResponse; ts: number }>;
  rewriting?: boolean;
  /** The admission of the turn queued or running now (budgets). */
  ticket?: AdmissionTicket | undefined;
  abort?: AbortController;
  done?: Promise<void>;
}

/**
 * The task engine: creates and continues tasks, runs one turn at a time per conversation, records
 * every change as an event (group-committed), and fans committed events out to subscribers.
 */
export class Engine {
  readonly bus: TaskBus = new Bus();
  readonly queues: ContextQueues;
  readonly live = new Map<string, LiveTask>();
  readonly #deps: Required<Omit<EngineDeps, "hooks" | "admission" | "events" | "storage">> & {
    hooks: EngineHooks;
    admission?: Admission | undefined;
    events?: EventSink | undefined;
    storage?: StorageHealth | undefined;
  };
  readonly #inflightDispatch = new Map<string, Promise<Task>>();
  #closing = false;

  constructor(deps: EngineDeps) {
    this.#deps = {
      now: Date.now,
      newId: () => uuidv7(),
      maxContextQueue: 16,
      hooks: {},
      ...deps,
    };
    this.queues = new ContextQueues(this.#deps.maxContextQueue);
  }

  get deps() {
    return this.#deps;
  }

  /**
   * Tasks left queued or running by a previous process: a turn its receiver can still finish (a
   * queued receiver's post-back) waits again; every other one is marked FAILED. Call once at start.
   * Returns how many failed.
   */
  async recover(): Promise<number> {
    const now = this.#deps.now();
    for (const p of this.#deps.profiles.values()) p.receiver.recover?.();
    const rows = this.#deps.repo.unfinished().filter((row) => {
      const profile = this.#deps.profiles.get(row.profile);
      const resumed = profile?.receiver.resume?.({
        taskId: row.id,
        peer: row.peer,
        contextId: row.contextId,
      });
      if (!profile || !resumed) return true;
      const live = this.#adopt(row);
      this.live.set(row.id, live);
      this.#enqueue(live, () => resumeTurn(this, live, profile, resumed));
      return false;
    });
    await Promise.all(
      rows.map((row) => {
        const status = {
          state: "TASK_STATE_FAILED" as const,
          message: this.agentMessage(row.task, "relay restarted while this task was queued or running"),
          timestamp: new Date(now).toISOString(),
        };
        const event: StreamResponse = { statusUpdate: { taskId: row.id, contextId: row.contextId, status } };
        const task = applyEvent(row.task, event);
        return this.#deps.writer.run(() => this.#deps.repo.update(row.id, task, row.seq + 1, now, event));
      }),
    );
    return rows.length;
  }

  /**
   * Create a task (or continue one) and queue its turn. Idempotent: a message this peer already
   * sent (same messageId, same profile, and the same taskId / contextId where the message names
   * them) returns the task it created and runs nothing; anything else is a new message.
   */
  async send(input: SendInput): Promise<Task> {
    const m = input.message;
    const key = [input.peer, m.messageId, input.profile, m.taskId ?? "", m.contextId ?? ""].join("\u0000");
    const inflight = this.#inflightDispatch.get(key);
    if (inflight) return inflight;
    const known = this.#deps.repo.findDispatch(input.peer, m.messageId);
    if (known && this.#isRetry(known, input)) return this.snapshot(known, input.peer);
    const p = this.#dispatch(input);
    this.#inflightDispatch.set(key, p);
    try {
      return await p;
    } finally {
      this.#inflightDispatch.delete(key);
    }
  }

  /** The committed snapshot of a task this peer owns. */
  snapshot(id: string, peer: string): Task {
    const live = this.live.get(id);
    if (live) {
      if (live.peer !== peer) throw taskNotFound(id);
      return live.committed;
    }
    const row = this.#deps.repo.get(id);
    if (!row || row.peer !== peer) throw taskNotFound(id);
    return row.task;
  }

  /** Snapshot plus subscription, atomically: events after the snapshot reach `fn`. */
  watch(id: string, peer: string, fn: (e: TaskEvent) => void): { task: Task; seq: number; stop: () => void } {
    const live = this.live.get(id);
    let task: Task;
    let seq: number;
    if (live) {
      if (live.peer !== peer) throw taskNotFound(id);
      task = live.committed;
      seq = live.committedSeq;
    } else {
      const row = this.#deps.repo.get(id);
      if (!row || row.peer !== peer) throw taskNotFound(id);
      task = row.task;
      seq = row.seq;
    }
    const stop = this.bus.subscribe(id, (e) => {
      if (e.seq > seq) fn(e);
    });
    return { task, seq, stop };
  }

  /** Resolve with the task once it reaches a terminal or interrupted state (or `signal` aborts). */
  waitSettled(id: string, peer: string, signal?: AbortSignal): Promise<Task> {
    return new Promise((resolve, reject) => {
      let stop = () => {};
      const finish = (t: Task) => {
        stop();
        signal?.removeEventListener("abort", onAbort);
        resolve(t);
      };
      const onAbort = () => {
        stop();
        reject(signal?.reason);
      };
      const w = this.watch(id, peer, (e) => {
        if (isSettled(e.task.status.state)) finish(e.task);
      });
      stop = w.stop;
      if (isSettled(w.task.status.state)) return finish(w.task);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get(id: string, peer: string, historyLength?: number): Task {
    return view(this.snapshot(id, peer), { historyLength });
  }

  /** The profile a task belongs to (undefined if unknown). */
  profileOf(id: string): string | undefined {
    return this.live.get(id)?.profile ?? this.#deps.repo.get(id)?.profile;
  }

  list(peer: string, p: ListTasksParams, profile?: string): ListTasksResult {
    const pageSize = p.pageSize ?? 50;
    const before = p.pageToken ? decodePageToken(p.pageToken) : undefined;
    const { rows, total } = this.#deps.repo.list({
      peer,
      profile,
      contextId: p.contextId,
      state: p.status,
      updatedAfter: p.statusTimestampAfter ? Date.parse(p.statusTimestampAfter) : undefined,
      before,
      limit: pageSize + 1,
    });
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      tasks: page.map((r) =>
        view(this.live.get(r.id)?.committed ?? r.task, {
          historyLength: p.historyLength ?? 0,
          includeArtifacts: p.includeArtifacts ?? false,
        }),
      ),
      nextPageToken: rows.length > pageSize && last ? encodePageToken(last.updatedAt, last.id) : "",
      pageSize,
      totalSize: total,
    };
  }

  async cancel(id: string, peer: string): Promise<Task> {
    const live = this.live.get(id);
    if (!live) {
      const row = this.#deps.repo.get(id);
      if (!row || row.peer !== peer) throw taskNotFound(id);
      if (isTerminal(row.state)) throw taskNotCancelable(id, row.state);
      // interrupted (input-required): nothing runs here; let the receiver release its side
      await this.#deps.profiles
        .get(row.profile)
        ?.receiver.cancelWaiting?.({ taskId: id, peer, contextId: row.contextId })
        .catch(() => {});
      const l = this.#adopt(row);
      this.live.set(id, l);
      await this.settle(l, "TASK_STATE_CANCELED", "canceled by the peer");
      if (!l.unwritten) this.live.delete(id);
      return l.committed;
    }
    if (live.peer !== peer) throw taskNotFound(id);
    if (isTerminal(live.pending.status.state)) throw taskNotCancelable(id, live.pending.status.state);
    if (live.start && this.queues.drop(live.queueKey, live.start)) {
      live.ticket?.refund();
      live.busy = false;
      await this.settle(live, "TASK_STATE_CANCELED", "canceled by the peer before it started");
      if (!live.unwritten) this.live.delete(id);
      return live.committed;
    }
    live.abort?.abort(new CancelReason("canceled by the peer"));
    await live.done;
    return this.snapshot(id, peer);
  }

  /** Stop taking turns; wait up to `graceMs` for running ones, then fail what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.#closing = true;
    // turns that only wait for a post-back go on in the next process: nothing to wait for here
    for (const l of this.live.values()) {
      if (l.detachable) l.abort?.abort(new CancelReason("relay shutting down", "TASK_STATE_WORKING", true));
    }
    const running = [...this.live.values()];
    const all = Promise.all(running.map((l) => l.done));
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref?.());
    await Promise.race([all, timer]);
    for (const l of this.live.values()) {
      if (l.start) this.queues.drop(l.queueKey, l.start);
      l.abort?.abort(
        l.resumable
          ? new CancelReason("relay shutting down", "TASK_STATE_WORKING", true)
          : new CancelReason("relay shutting down", "TASK_STATE_FAILED"),
      );
      if (!l.abort) {
        l.ticket?.refund();
        await this.settle(l, "TASK_STATE_FAILED", "relay shut down before this task started");
      }
    }
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  get closing(): boolean {
    return this.#closing;
  }

  // ---- used by turn.ts ----

  /**
   * Record an event: compute the new snapshot now, publish it after its commit. Never rejects: if
   * the write fails, the state is kept and published from memory (waiting callers get their
   * answer) and written again, in order, with backoff until it lands (see #rewrite).
   */
  record(live: LiveTask, event: StreamResponse): Promise<void> {
    const task = applyEvent(live.pending, event);
    const seq = ++live.pendingSeq;
    live.pending = task;
    const now = this.#deps.now();
    if (live.unwritten) {
      // earlier writes of this task failed: this one waits its turn behind them
      live.unwritten.push({ seq, event, ts: now });
      this.#publish(live, seq, event, task);
      return Promise.resolve();
    }
    const sink = this.#deps.events;
    return this.#deps.writer
      .run(
        () => {
          const { repo, writer } = this.#deps;
          repo.appendEvent(live.id, seq, now, event);
          // a fast turn changes its task several times in one transaction: write the row once
          writer.defer(`tasks:${live.id}`, () => repo.writeSnapshot(live.id, task, seq, now));
          return sink?.written(live.id, event, task) ?? false;
        },
        () => this.#publish(live, seq, event, task),
      )
      .then(
        (queued) => {
          if (queued) sink?.committed();
        },
        (err) => {
          this.#deps.storage?.failed(err);
          live.unwritten ??= [];
          live.unwritten.push({ seq, event, ts: now });
          this.#publish(live, seq, event, task);
          this.#rewrite(live);
        },
      );
  }

  settle(live: LiveTask, state: TaskState, text: string): Promise<void> {
    const status = { state, message: this.agentMessage(live.pending, text), timestamp: this.iso() };
    return this.record(live, { statusUpdate: { taskId: live.id, contextId: live.contextId, status } });
  }

  agentMessage(task: Pick<Task, "id" | "contextId">, text: string): Message {
    return {
      messageId: this.#deps.newId(),
      role: "ROLE_AGENT",
      parts: [{ text }],
      taskId: task.id,
      contextId: task.contextId,
    };
  }

  iso(): string {
    return new Date(this.#deps.now()).toISOString();
  }

  // internal

  #publish(live: LiveTask, seq: number, event: StreamResponse, task: Task): void {
    if (seq > live.committedSeq) {
      live.committed = task;
      live.committedSeq = seq;
    }
    this.bus.publish(live.id, { seq, event, task });
  }

  /** Write a task's unwritten events and latest snapshot again, with backoff, until it lands. */
  #rewrite(live: LiveTask): void {
    if (live.rewriting) return;
    live.rewriting = true;
    const storage = this.#deps.storage;
    storage?.strand(live.id, true);
    const { repo, writer } = this.#deps;
    const sink = this.#deps.events;
    let waitMs = 100;
    const attempt = async (): Promise<void> => {
      let batch: NonNullable<LiveTask["unwritten"]> = [];
      try {
        const queued = await writer.run(() => {
          batch = (live.unwritten ?? []).splice(0);
          let q = false;
          for (const e of batch) {
            repo.appendEvent(live.id, e.seq, e.ts, e.event);
            q = (sink?.written(live.id, e.event, live.pending) ?? false) || q;
          }
          repo.writeSnapshot(live.id, live.pending, live.pendingSeq, this.#deps.now());
          return q;
        });
        if (queued) sink?.committed();
      } catch (err) {
        live.unwritten = [...batch, ...(live.unwritten ?? [])];
        storage?.failed(err);
        await new Promise((r) => setTimeout(r, waitMs).unref?.());
        waitMs = Math.min(waitMs * 2, 5000);
        return attempt();
      }
      if (live.unwritten?.length) return attempt();
      live.unwritten = undefined;
      live.rewriting = false;
      storage?.strand(live.id, false);
      if (!live.busy && isSettled(live.pending.status.state) && this.live.get(live.id) === live) {
        this.live.delete(live.id);
      }
    };
    void attempt();
  }

  async #dispatch(input: SendInput): Promise<Task> {
    const { message, peer } = input;
    const profile = this.#deps.profiles.get(input.profile);
    if (!profile) throw new Error(`engine: unknown profile ${input.profile}`);
    const refusal = this.#deps.storage?.refusal();
    if (refusal) throw refusal;
    if (message.role !== "ROLE_USER") {
      throw invalidParams(
        `message.role is ${message.role}: only a user's message starts or continues a turn`,
        "message.role",
      );
    }
    const now = this.#deps.now();

    if (message.taskId) {
      const existing = this.live.get(message.taskId) ?? this.#liveFromRow(message.taskId, peer);
      if (existing.peer !== peer) throw taskNotFound(message.taskId);
      if (existing.profile !== input.profile) {
        throw invalidParams(
          `task ${message.taskId} belongs to profile ${existing.profile}`,
          "message.taskId",
        );
      }
      if (message.contextId && message.contextId !== existing.contextId) {
        throw invalidParams("message.contextId does not match the task's context", "message.contextId");
      }
      if (isTerminal(existing.pending.status.state)) {
        throw unsupportedOperation(
          `task ${existing.id} is ${existing.pending.status.state}; send a new message in context ${existing.contextId} to start a new task`,
        );
      }
      this.queues.check(existing.queueKey, existing.contextId);
      const admitted = this.#admit(existing.id, existing.contextId, input);
      const ticket = admitted instanceof Promise ? await admitted : admitted;
      const msg = { ...message, taskId: existing.id, contextId: existing.contextId };
      this.live.set(existing.id, existing);
      existing.hops = input.hops;
      existing.progress = input.progress;
      existing.request = input.request;
      await this.#deps.writer
        .run(() => this.#deps.repo.recordDispatch(peer, message.messageId, existing.id, now))
        .catch((err) => {
          ticket?.refund();
          throw this.#notWritten(err);
        });
      // an interrupted task (INPUT_REQUIRED) is live again: subscribers and blocking sends must wait
      // for the next turn, not see the old interrupted state and return at once
      const resumed = isSettled(existing.pending.status.state);
      const status = { state: "TASK_STATE_SUBMITTED" as const, timestamp: new Date(now).toISOString() };
      await Promise.all([
        this.record(existing, { message: msg }),
        resumed &&
          this.record(existing, {
            statusUpdate: { taskId: existing.id, contextId: existing.contextId, status },
          }),
      ]);
      this.#enqueue(existing, () => runTurn(this, existing, profile, msg, ticket), ticket);
      return existing.committed;
    }

    const contextId = message.contextId ?? this.#deps.newId();
    const queueKey = ContextQueues.key(input.profile, peer, contextId);
    this.queues.check(queueKey, contextId);
    const id = this.#deps.newId();
    const admitted = this.#admit(id, contextId, input);
    const ticket = admitted instanceof Promise ? await admitted : admitted;
    const msg: Message = { ...message, taskId: id, contextId };
    const task: Task = {
      id,
      contextId,
      status: { state: "TASK_STATE_SUBMITTED", timestamp: new Date(now).toISOString() },
      history: [msg],
    };
    const live: LiveTask = {
      id,
      peer,
      profile: input.profile,
      contextId,
      origin: input.origin,
      createdAt: now,
      pending: task,
      pendingSeq: 1,
      committed: task,
      committedSeq: 1,
      queueKey,
      hops: input.hops,
      progress: input.progress,
      request: input.request,
    };
    const row: TaskRow = {
      id,
      peer,
      profile: input.profile,
      contextId,
      origin: input.origin,
      state: task.status.state,
      task,
      seq: 1,
      createdAt: now,
      updatedAt: now,
    };
    this.live.set(id, live);
    try {
      const queued = await this.#deps.writer.run(() => {
        this.#deps.repo.insert(row, { task }, message.messageId);
        input.onCreated?.(id);
        return this.#deps.events?.written(id, { task }, task) ?? false;
      });
      if (queued) this.#deps.events?.committed();
    } catch (err) {
      this.live.delete(id);
      ticket?.refund();
      throw this.#notWritten(err);
    }
    this.#enqueue(live, () => runTurn(this, live, profile, msg, ticket), ticket);
    return task;
  }

  /**
   * Whether `input` repeats the dispatch that went to task `id` (see `send`): same profile, the
   * same task and context where it names them, and the same content as the message recorded.
   */
  #isRetry(id: string, input: SendInput): boolean {
    const live = this.live.get(id);
    const t = live ?? this.#deps.repo.get(id);
    if (!t || t.peer !== input.peer || t.profile !== input.profile) return false;
    const { taskId, contextId, messageId, parts } = input.message;
    if (taskId !== undefined && taskId !== id) return false;
    if (contextId !== undefined && contextId !== t.contextId) return false;
    const task = live ? live.pending : (t as TaskRow).task;
    const sent = task.history?.find((m) => m.messageId === messageId);
    if (sent !== undefined && JSON.stringify(sent.parts) !== JSON.stringify(parts)) return false;
    return input.sameRequest?.(id) ?? true;
  }

  /** A dispatch whose own record could not be written: -32047, the storage noted as failing. */
  #notWritten(err: unknown): unknown {
    if (err instanceof RelayError) return err;
    this.#deps.storage?.failed(err);
    return storageUnavailable(
      `the task could not be recorded (${String((err as Error)?.message ?? err).split("\n")[0]})`,
    );
  }

  #liveFromRow(id: string, peer: string): LiveTask {
    const row = this.#deps.repo.get(id);
    if (!row || row.peer !== peer) throw taskNotFound(id);
    return this.#adopt(row);
  }

  #adopt(row: TaskRow): LiveTask {
    return {
      id: row.id,
      peer: row.peer,
      profile: row.profile,
      contextId: row.contextId,
      origin: row.origin === "local" ? "local" : "a2a",
      createdAt: row.createdAt,
      pending: row.task,
      pendingSeq: row.seq,
      committed: row.task,
      committedSeq: row.seq,
      queueKey: ContextQueues.key(row.profile, row.peer, row.contextId),
    };
  }

  /** Called before the dispatch's first await: a synchronous admission cannot interleave. */
  #admit(taskId: string, contextId: string, input: SendInput): ReturnType<Admission["admit"]> {
    const req = { peer: input.peer, profile: input.profile, contextId, taskId, origin: input.origin };
    return this.#deps.admission?.admit(req);
  }

  #enqueue(live: LiveTask, run: () => Promise<void>, ticket?: AdmissionTicket): void {
    let resolveDone: () => void = () => {};
    live.done = new Promise<void>((r) => {
      resolveDone = r;
    });
    live.busy = true;
    const start = () => {
      live.start = undefined;
      run()
        .catch(() => {})
        .finally(() => {
          live.busy = false;
          this.queues.release(live.queueKey);
          // a task whose state is still being written stays here (its state lives in memory)
          if (isSettled(live.pending.status.state) && !live.unwritten) this.live.delete(live.id);
          resolveDone();
        });
    };
    live.start = start;
    live.ticket = ticket;
    this.queues.enqueue(live.queueKey, start);
  }
}

/**
 * Why a turn was aborted: a cancel (CANCELED), a timeout or a shutdown (FAILED); `detach`: a
 * shutdown leaves the task as it is on disk, for the next process to resume.
 */
export class CancelReason {
  constructor(
    readonly text: string,
    readonly state: TaskState = "TASK_STATE_CANCELED",
    readonly detach = false,
  ) {}
}
