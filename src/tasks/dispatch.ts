import type { Message, Task } from "../a2a/types.ts";
import { isSettled, isTerminal } from "../a2a/types.ts";
import {
  invalidParams,
  RelayError,
  storageUnavailable,
  taskNotFound,
  unsupportedOperation,
} from "../errors.ts";
import type { Admission } from "./admission.ts";
import { ContextQueues } from "./context-queue.ts";
import { enqueue, liveFromRow } from "./live.ts";
import { snapshot } from "./queries.ts";
import { record } from "./recording.ts";
import type { TaskRow } from "./repo.ts";
import { runTurn } from "./turn.ts";
import type { EngineCore, LiveTask, ProfileTarget, SendInput } from "./types.ts";

/**
 * Create a task (or continue one) and queue its turn. Idempotent: a message this peer already
 * sent (same messageId, same profile, and the same taskId / contextId where the message names
 * them) returns the task it created and runs nothing; anything else is a new message.
 * `inflight` holds the dispatches not yet recorded, by message.
 */
export async function send(
  core: EngineCore,
  inflight: Map<string, Promise<Task>>,
  input: SendInput,
): Promise<Task> {
  const m = input.message;
  const key = [input.peer, m.messageId, input.profile, m.taskId ?? "", m.contextId ?? ""].join("\u0000");
  const running = inflight.get(key);
  if (running) return running;
  const known = core.deps.repo.findDispatch(input.peer, m.messageId);
  if (known && isRetry(core, known, input)) return snapshot(core, known, input.peer);
  const p = dispatch(core, input);
  inflight.set(key, p);
  try {
    return await p;
  } finally {
    inflight.delete(key);
  }
}

// internal

async function dispatch(core: EngineCore, input: SendInput): Promise<Task> {
  const { message } = input;
  const profile = core.deps.profiles.get(input.profile);
  if (!profile) throw new Error(`engine: unknown profile ${input.profile}`);
  const refusal = core.deps.storage?.refusal();
  if (refusal) throw refusal;
  if (message.role !== "ROLE_USER") {
    throw invalidParams(
      `message.role is ${message.role}: only a user's message starts or continues a turn`,
      "message.role",
    );
  }
  return message.taskId
    ? continueTask(core, input, profile, message.taskId)
    : createTask(core, input, profile);
}

/** A message to an existing task: its next turn. */
async function continueTask(
  core: EngineCore,
  input: SendInput,
  profile: ProfileTarget,
  taskId: string,
): Promise<Task> {
  const { message, peer } = input;
  const { deps } = core;
  const now = deps.now();
  const existing = core.live.get(taskId) ?? liveFromRow(core, taskId, peer);
  if (existing.peer !== peer) throw taskNotFound(taskId);
  if (existing.profile !== input.profile) {
    throw invalidParams(`task ${taskId} belongs to profile ${existing.profile}`, "message.taskId");
  }
  if (message.contextId && message.contextId !== existing.contextId) {
    throw invalidParams("message.contextId does not match the task's context", "message.contextId");
  }
  if (isTerminal(existing.pending.status.state)) {
    throw unsupportedOperation(
      `task ${existing.id} is ${existing.pending.status.state}; send a new message in context ${existing.contextId} to start a new task`,
    );
  }
  core.queues.check(existing.queueKey, existing.contextId);
  const admitted = admit(core, existing.id, existing.contextId, input);
  const ticket = admitted instanceof Promise ? await admitted : admitted;
  const msg = { ...message, taskId: existing.id, contextId: existing.contextId };
  core.live.set(existing.id, existing);
  existing.admittedAt = deps.now();
  existing.hops = input.hops;
  existing.progress = input.progress;
  existing.request = input.request;
  await deps.writer
    .run(() => deps.repo.recordDispatch(peer, message.messageId, existing.id, now))
    .catch((err) => {
      ticket?.refund();
      throw notWritten(core, err);
    });
  // an interrupted task (INPUT_REQUIRED) is live again: subscribers and blocking sends must wait
  // for the next turn, not see the old interrupted state and return at once
  const resumed = isSettled(existing.pending.status.state);
  const status = { state: "TASK_STATE_SUBMITTED" as const, timestamp: new Date(now).toISOString() };
  await Promise.all([
    record(core, existing, { message: msg }),
    resumed &&
      record(core, existing, {
        statusUpdate: { taskId: existing.id, contextId: existing.contextId, status },
      }),
  ]);
  enqueue(core, existing, () => runTurn(core.turns, existing, profile, msg, ticket), ticket);
  return existing.committed;
}

/** A message that starts a task (in a new or a known context). */
async function createTask(core: EngineCore, input: SendInput, profile: ProfileTarget): Promise<Task> {
  const { message, peer } = input;
  const { deps } = core;
  const now = deps.now();
  const contextId = message.contextId ?? deps.newId();
  const queueKey = ContextQueues.key(input.profile, peer, contextId);
  core.queues.check(queueKey, contextId);
  const id = deps.newId();
  const admitted = admit(core, id, contextId, input);
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
    admittedAt: deps.now(),
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
  core.live.set(id, live);
  try {
    const queued = await deps.writer.run(() => {
      deps.repo.insert(row, { task }, message.messageId);
      input.onCreated?.(id);
      return deps.events?.written(id, { task }, task) ?? false;
    });
    if (queued) deps.events?.committed();
  } catch (err) {
    core.live.delete(id);
    ticket?.refund();
    throw notWritten(core, err);
  }
  enqueue(core, live, () => runTurn(core.turns, live, profile, msg, ticket), ticket);
  return task;
}

/**
 * Whether `input` repeats the dispatch that went to task `id` (see `send`): same profile, the
 * same task and context where it names them, and the same content as the message recorded.
 */
function isRetry(core: EngineCore, id: string, input: SendInput): boolean {
  const live = core.live.get(id);
  const t = live ?? core.deps.repo.get(id);
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
function notWritten(core: EngineCore, err: unknown): unknown {
  if (err instanceof RelayError) return err;
  core.deps.storage?.failed(err);
  return storageUnavailable(
    `the task could not be recorded (${String((err as Error)?.message ?? err).split("\n")[0]})`,
  );
}

/**
 * Ask admission control about a turn of task `taskId`. Called before the dispatch's first await,
 * so a synchronous admission cannot interleave with another dispatch (await only a promise).
 */
function admit(
  core: EngineCore,
  taskId: string,
  contextId: string,
  input: SendInput,
): ReturnType<Admission["admit"]> | undefined {
  const req = { peer: input.peer, profile: input.profile, contextId, taskId, origin: input.origin };
  return core.deps.admission?.admit(req);
}
