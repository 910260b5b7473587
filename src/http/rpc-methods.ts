import type { z } from "zod";
import { HermesParams, hermesAnswer, isAgentRole, messageFromHermes } from "../a2a/hermes.ts";
import type { Dialect } from "../a2a/jsonrpc.ts";
import {
  GetTaskParamsSchema,
  isSettled,
  isTerminal,
  ListTasksParamsSchema,
  type SendMessageParams,
  SendMessageParamsSchema,
  type Task,
  TaskIdParamsSchema,
  textOf,
} from "../a2a/types.ts";
import { messageToV03, SendParamsV03, sendParamsFromV03, stateToV03, taskToV03 } from "../a2a/v03.ts";
import { mayUse } from "../auth/peers.ts";
import { type Brief, parseBrief } from "../brief/schema.ts";
import {
  budgetExceeded,
  type ErrorData,
  extendedCardNotConfigured,
  invalidParams,
  methodNotFound,
  pushNotSupported,
  type RelayError,
  relayStopped,
  taskFailed,
  taskNotFound,
  unsupportedOperation,
} from "../errors.ts";
import { type PushMethod, pushConfigOf, pushMethod } from "../push/methods.ts";
import type { PushConfig } from "../push/store.ts";
import type { RequestExtras } from "../receivers/types.ts";
import type { Engine } from "../tasks/engine.ts";
import { view } from "../tasks/snapshot.ts";
import { streamTask, upstreamMessage } from "./rpc-stream.ts";
import type { RpcCall, RpcOutcome } from "./types.ts";

type Handler = (engine: Engine, call: RpcCall) => Promise<RpcOutcome> | RpcOutcome;

/** v1.0 method names → handlers; v0.3 names map onto the same handlers. */
const V1: Record<string, Handler> = {
  SendMessage: sendMessage,
  SendStreamingMessage: sendStreaming,
  GetTask: getTask,
  ListTasks: listTasks,
  CancelTask: cancelTask,
  SubscribeToTask: subscribe,
  CreateTaskPushNotificationConfig: push("create"),
  GetTaskPushNotificationConfig: push("get"),
  ListTaskPushNotificationConfigs: push("list"),
  DeleteTaskPushNotificationConfig: push("delete"),
  GetExtendedAgentCard: () => {
    throw extendedCardNotConfigured();
  },
};

const V03: Record<string, Handler> = {
  "message/send": sendMessage,
  "message/stream": sendStreaming,
  "tasks/get": getTask,
  "tasks/cancel": cancelTask,
  "tasks/resubscribe": subscribe,
  "tasks/pushNotificationConfig/set": push("create"),
  "tasks/pushNotificationConfig/get": push("get"),
  "tasks/pushNotificationConfig/list": push("list"),
  "tasks/pushNotificationConfig/delete": push("delete"),
  "agent/getAuthenticatedExtendedCard": () => {
    throw extendedCardNotConfigured();
  },
};

export function findMethod(dialect: Dialect, method: string): Handler {
  // own properties only: "__proto__", "constructor", "toString" are not methods
  const own = (table: Record<string, Handler>) => (Object.hasOwn(table, method) ? table[method] : undefined);
  const h = dialect === "1.0" ? own(V1) : (own(V03) ?? own(V1));
  if (!h) throw methodNotFound(method);
  return h;
}

/** The profile a request names in `params.metadata.profile` (for `POST /a2a`). */
export function profileFromParams(params: unknown): string | undefined {
  const p = (params as { metadata?: { profile?: unknown } })?.metadata?.profile;
  return typeof p === "string" && p ? p : undefined;
}

// internal

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join(".");
  throw invalidParams(`invalid params${path ? ` at ${path}` : ""}: ${issue.message}`, path || undefined);
}

/** The send params in v1.0 form; a bad brief is refused here, before any task exists. */
function sendParams(engine: Engine, call: RpcCall): SendMessageParams & { brief?: Brief | undefined } {
  const p =
    call.dialect === "hermes"
      ? { message: messageFromHermes(parse(HermesParams, call.params), engine.deps.newId) }
      : call.dialect === "0.3"
        ? sendParamsFromV03(parse(SendParamsV03, call.params))
        : parse(SendMessageParamsSchema, call.params);
  return { ...p, brief: parseBrief(p.message) };
}

/**
 * A blocking caller whose turn waited in its peer's queue and was then refused by the budget
 * (tokens or cost ran out meanwhile) gets the same -32042 as a dispatch refused on arrival.
 */
function budgetRefusal(task: Task): RelayError | undefined {
  const e = task.metadata?.error as
    | { code?: number; message?: string; data?: ErrorData; source?: string }
    | undefined;
  // only this relay's own admission; an upstream's refusal stays a REJECTED task
  if (task.status.state !== "TASK_STATE_REJECTED" || e?.code !== -32042 || e.source !== "admission") {
    return undefined;
  }
  const d = e.data ?? {};
  const resetAt = typeof d.resetAt === "string" ? d.resetAt : undefined;
  const at = resetAt === undefined ? Number.NaN : Date.parse(resetAt);
  return budgetExceeded({
    peer: String(d.peer),
    limit: String(d.limit),
    used: Number(d.used),
    max: Number(d.max),
    resetAt,
    retryAfterS: Number.isFinite(at) ? (at - Date.now()) / 1000 : undefined,
    taskId: task.id,
  });
}

/**
 * A request carrying a push config repeats an earlier one only if that task has the same push
 * setup (URL, token, credentials): a new push setup under an old messageId is a new request, not
 * a retry to drop it from.
 */
function samePush(call: RpcCall): ((taskId: string) => boolean) | undefined {
  const c = pushConfigOf(call.params) as
    | { url?: unknown; token?: unknown; authentication?: { scheme?: unknown; credentials?: unknown } }
    | undefined;
  if (typeof c?.url !== "string") return undefined;
  const key = (x: typeof c) =>
    JSON.stringify([
      x?.url,
      x?.token ?? null,
      x?.authentication?.scheme ?? null,
      x?.authentication?.credentials ?? null,
    ]);
  const want = key(c);
  return (taskId) => (call.push?.list(taskId) ?? []).some((have) => key(have) === want);
}

/**
 * What travels upstream with the message: the request's metadata, and the configuration that is
 * the caller's to choose. Blocking and push stay this relay's (it answers the caller itself).
 */
function requestExtras(p: SendMessageParams): RequestExtras | undefined {
  const c = p.configuration;
  const configuration = {
    ...(c?.acceptedOutputModes ? { acceptedOutputModes: c.acceptedOutputModes } : {}),
    ...(c?.historyLength !== undefined ? { historyLength: c.historyLength } : {}),
  };
  if (!p.metadata && !Object.keys(configuration).length) return undefined;
  return {
    ...(p.metadata ? { metadata: p.metadata } : {}),
    ...(Object.keys(configuration).length ? { configuration } : {}),
  };
}

/** A task as the caller's dialect shows it (v1.0 GetTask/CancelTask return the bare Task). */
function out(call: RpcCall, task: Task): unknown {
  return call.dialect === "1.0" ? task : taskToV03(task);
}

/** SendMessage's result: v1.0 wraps it as `{task}`; v0.3 returns the kind-tagged task. */
function sendOut(call: RpcCall, task: Task): unknown {
  return call.dialect === "1.0" ? { task } : taskToV03(task);
}

/** Validate a send (message, brief, push targets) and hand it to the engine. */
async function dispatch(engine: Engine, call: RpcCall, streaming: boolean) {
  const p = sendParams(engine, call);
  const task = await engine.send({
    peer: call.peer.name,
    profile: call.profile,
    origin: "a2a",
    message: p.message,
    hops: call.hops ?? 0,
    progress: streaming || (p.configuration?.returnImmediately === true && call.dialect !== "hermes"),
    request: requestExtras(p),
    sameRequest: samePush(call),
    onCreated: pushOnCreate(engine, call, p.brief),
  });
  call.named?.(task.id, call.profile);
  return { p, task };
}

async function sendMessage(engine: Engine, call: RpcCall): Promise<RpcOutcome> {
  if (call.dialect === "hermes") {
    const params = parse(HermesParams, call.params);
    if (isAgentRole(params.message.role)) return { kind: "result", result: postback(call, params) };
  }
  const { p, task } = await dispatch(engine, call, false);
  const hl = p.configuration?.historyLength;
  if (p.configuration?.returnImmediately && call.dialect !== "hermes") {
    return { kind: "result", result: sendOut(call, view(task, { historyLength: hl })) };
  }
  call.keepOpen();
  const settled = await engine.waitSettled(task.id, call.peer.name, call.signal);
  const refused = budgetRefusal(settled);
  if (refused) throw refused;
  if (call.dialect === "hermes") {
    const { state } = settled.status;
    // the relay stopped first (the turn goes on in the next process): this caller cannot follow it
    if (!isSettled(state)) throw relayStopped(settled.id);
    if (state !== "TASK_STATE_COMPLETED" && state !== "TASK_STATE_INPUT_REQUIRED") {
      throw taskFailed(settled.id, stateToV03(state), textOf(settled.status.message?.parts ?? []));
    }
    return { kind: "result", result: hermesAnswer(settled) };
  }
  const message = upstreamMessage(settled);
  if (message)
    return { kind: "result", result: call.dialect === "1.0" ? { message } : messageToV03(message) };
  return { kind: "result", result: sendOut(call, view(settled, { historyLength: hl })) };
}

/**
 * A fleet-dialect message with `role: "agent"`: a queued receiver's post-back. It settles the task
 * waiting in that context when it comes from the profile's `reply_peer`; it never runs as a turn.
 */
function postback(call: RpcCall, params: z.infer<typeof HermesParams>): unknown {
  const contextId = params.message.contextId;
  const text = params.message.parts.find((x) => typeof x.text === "string")?.text ?? "";
  const r = call.replies;
  const fields = { peer: call.peer.name, profile: call.profile, contextId };
  if (r && contextId && r.replyPeer(call.profile) === call.peer.name) {
    const d = r.postbacks.deliver(call.profile, contextId, text);
    if (d.delivery !== "unknown") {
      r.log(
        { ...fields, taskId: d.taskId, delivery: d.delivery },
        d.delivery === "settled"
          ? "post-back settled its task"
          : "post-back came after its task ended; not run",
      );
      const note =
        d.delivery === "settled" ? "reply received" : "reply received after the task had ended; not run";
      return { kind: "message", message: { role: "agent", parts: [{ text: note }], contextId } };
    }
  }
  const expected = r?.replyPeer(call.profile);
  const waiting = r && contextId ? r.postbacks.refuse(call.profile, contextId, call.peer.name) : undefined;
  if (r && waiting && expected) {
    // a task does wait here: the receiver posts back with another peer's credential (its
    // hermes_auth_token_env); the a2a_fleet receivers do not read the error, so say it in the log
    r.log(
      { ...fields, taskId: waiting, replyPeer: expected },
      `post-back refused: task ${waiting} waits for it from reply_peer "${expected}", not from peer "${call.peer.name}" (check the receiver's hermes_auth_token_env)`,
      true,
    );
    throw invalidParams(
      `message.role is agent: task ${waiting} on profile "${call.profile}" waits for a post-back in context "${contextId}" from its reply_peer "${expected}", not from peer "${call.peer.name}": post back with that peer's credential`,
      "message.role",
    );
  }
  r?.log(fields, "agent message refused: no task waits for it");
  throw invalidParams(
    `message.role is agent: an agent's message is not a user turn, and no task on profile "${call.profile}" waits for a post-back in context "${contextId ?? "(none)"}" from peer "${call.peer.name}" (post-backs come from the profile's reply_peer)`,
    "message.role",
  );
}

async function sendStreaming(engine: Engine, call: RpcCall): Promise<RpcOutcome> {
  const { p, task } = await dispatch(engine, call, true);
  const kind = engine.deps.profiles.get(call.profile)?.receiver.kind;
  const forwarded = kind === "a2a" || kind === "remote";
  return streamTask(engine, call, task.id, "settled", forwarded, p.configuration?.historyLength);
}

/** The caller's task `id` (on the URL's profile when it names one), named for the request log. */
function scopedTask(engine: Engine, call: RpcCall, id: string): Task {
  call.named?.(id);
  const { task, profile } = engine.owned(id, call.peer.name);
  if (call.scoped && profile !== call.profile) throw taskNotFound(id);
  call.named?.(id, profile);
  return task;
}

function getTask(engine: Engine, call: RpcCall): RpcOutcome {
  const p = parse(GetTaskParamsSchema, call.params);
  const t = scopedTask(engine, call, p.id);
  return { kind: "result", result: out(call, view(t, { historyLength: p.historyLength })) };
}

function listTasks(engine: Engine, call: RpcCall): RpcOutcome {
  const p = parse(ListTasksParamsSchema, call.params);
  return { kind: "result", result: engine.list(call.peer.name, p, call.scoped ? call.profile : undefined) };
}

async function cancelTask(engine: Engine, call: RpcCall): Promise<RpcOutcome> {
  const p = parse(TaskIdParamsSchema, call.params);
  scopedTask(engine, call, p.id);
  const t = await engine.cancel(p.id, call.peer.name);
  return { kind: "result", result: out(call, view(t)) };
}

function subscribe(engine: Engine, call: RpcCall): RpcOutcome {
  const p = parse(TaskIdParamsSchema, call.params);
  const t = scopedTask(engine, call, p.id);
  if (isTerminal(t.status.state)) {
    throw unsupportedOperation(`task ${p.id} is ${t.status.state}; there is nothing left to subscribe to`);
  }
  return streamTask(engine, call, p.id, "terminal");
}

function push(kind: PushMethod): Handler {
  return async (engine, call) => ({
    kind: "result",
    result: await pushMethod(kind, engine, call.push, {
      peer: call.peer.name,
      dialect: call.dialect,
      params: call.params,
    }),
  });
}

/**
 * Push targets a SendMessage carries (its push config; its brief's `reply_to`): validated now,
 * before any task exists, and stored in the task's own transaction so no event is missed.
 */
function pushOnCreate(
  engine: Engine,
  call: RpcCall,
  brief: Brief | undefined,
): ((taskId: string) => void) | undefined {
  const input = pushConfigOf(call.params);
  const replyTo = brief?.reply_to;
  if (input === undefined && !replyTo) return undefined;
  if (!call.push) throw pushNotSupported();
  // a push config is a capability this peer may lack (-32003); a brief's reply_to is a brief field
  if (input !== undefined && !call.push.enabledFor(call.peer.name)) throw pushNotSupported(call.peer.name);
  const push = call.push;
  const peer = call.peer.name;
  const configs: PushConfig[] = [];
  if (input !== undefined)
    configs.push(push.prepare(peer, "", input, "configuration.pushNotificationConfig"));
  if (replyTo?.startsWith("relay:")) {
    const profile = replyTo.slice("relay:".length);
    if (!engine.deps.profiles.has(profile) || !mayUse(call.peer, profile)) {
      throw invalidParams(`brief.reply_to: no profile "${profile}" this peer may use`, "brief.reply_to");
    }
    configs.push({ taskId: "", id: "reply_to", url: replyTo, finalOnly: true });
  } else if (replyTo) {
    configs.push({
      ...push.prepare(peer, "", { id: "reply_to", url: replyTo }, "brief.reply_to"),
      finalOnly: true,
    });
  }
  return (taskId) => {
    for (const c of configs) push.putSync(peer, { ...c, taskId });
  };
}
