import {
  isSettled,
  isTerminal,
  type Message,
  type Part,
  type StreamResponse,
  textOf,
} from "../../a2a/types.ts";
import type { TurnEmitter, TurnResult, Usage } from "../types.ts";
import type { Dialect } from "./dialect.ts";
import { UpstreamError } from "./http.ts";

/**
 * Folding upstream answers into one relay turn: progress and artifacts as they come, the final
 * upstream state as the turn's result, failures as FAILED with `{code, reason}` metadata.
 */

/** A turn that cannot be forwarded: becomes FAILED with this text and `{code, reason}` metadata. */
export class TurnFailure extends Error {
  constructor(
    message: string,
    readonly code = -32045,
    readonly reason = "UPSTREAM_UNAVAILABLE",
  ) {
    super(message);
  }
}

/** The agent's last message after the last user message of a task's history. */
function lastAgentMessage(history: Message[] | undefined): Message | undefined {
  for (let i = (history?.length ?? 0) - 1; i >= 0; i--) {
    const m = history![i]!;
    if (m.role === "ROLE_USER") return undefined;
    if (m.parts.length) return m;
  }
  return undefined;
}

/** What is known about the upstream side of the turn so far. */
export class Progress {
  #taskId: string | undefined;
  onTaskId: () => void = () => {};
  get taskId(): string | undefined {
    return this.#taskId;
  }
  set taskId(id: string | undefined) {
    const first = !this.#taskId && id;
    this.#taskId = id;
    if (first) this.onTaskId();
  }
  contextId: string | undefined;
  /** The upstream task's state in its latest event. */
  lastState: string | undefined;
  /** "message" when the upstream answered with a Message instead of a task. */
  reply: "message" | undefined;
  /** The agent's latest message in this turn (progress, or the history of a task answer). */
  last: Message | undefined;
  /** A v1.0 interrupted state seen last: the result if the stream closes now. */
  pending: TurnResult | undefined;
  /** The turn's artifacts by id, as the updates left them (an `append` adds, else replaces). */
  artifacts = new Map<string, Part[]>();
  constructor(
    readonly url: string,
    readonly protocol: string,
    readonly binding = "jsonrpc",
  ) {}
  metadata() {
    return {
      upstream: {
        url: this.url,
        protocol: this.protocol,
        binding: this.binding,
        ...(this.taskId ? { taskId: this.taskId } : {}),
        ...(this.contextId ? { contextId: this.contextId } : {}),
        ...(this.reply ? { reply: this.reply } : {}),
      },
    };
  }
}

export function parse(d: Dialect, raw: unknown): StreamResponse {
  try {
    return d.event(raw);
  } catch (err) {
    if (d.protocol !== "hermes-fleet" && fleetAnswer(raw)) {
      throw new UpstreamError(
        `upstream unavailable: it answers in the older Hermes fleet dialect ({"kind": "message", "message": …} with no messageId); set protocol = "hermes-fleet" on this profile`,
        "invalid",
      );
    }
    throw new UpstreamError(`upstream unavailable: unexpected answer (${whatIsWrong(err)})`, "invalid");
  }
}

/** The answer of an older Hermes fleet node (the a2a_fleet plugin's server and receivers). */
function fleetAnswer(raw: unknown): boolean {
  const r = raw as { kind?: unknown; message?: { messageId?: unknown } } | null;
  return (
    typeof r === "object" &&
    r !== null &&
    r.kind === "message" &&
    typeof r.message === "object" &&
    r.message !== null &&
    r.message.messageId === undefined
  );
}

/**
 * One line naming the field a malformed answer got wrong: a zod error's first issue, and for a
 * union (task, message, status or artifact update) the branch that got furthest.
 */
function whatIsWrong(err: unknown): string {
  const first = deepest((err as { issues?: Issue[] })?.issues ?? [], []);
  if (first) return `${first.path.map(String).join(".") || "the answer"}: ${first.message}`.slice(0, 200);
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 200);
}

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  errors?: Issue[][];
}

function deepest(issues: Issue[], prefix: PropertyKey[]): Issue | undefined {
  let best: Issue | undefined;
  for (const i of issues) {
    const here = { ...i, path: [...prefix, ...i.path] };
    const inner =
      i.code === "invalid_union" && i.errors?.length
        ? i.errors.map((branch) => deepest(branch, here.path)).filter((x): x is Issue => !!x)
        : [];
    for (const c of [here, ...inner]) if (!best || c.path.length > best.path.length) best = c;
  }
  return best;
}

/**
 * How an event says whether it ends the upstream's turn: v0.3 marks it (`final`), v1.0 does not
 * (its stream closes after a terminal or interrupted state).
 */
export type Finality = boolean | undefined;

/**
 * Fold one upstream event into the turn; a result when the upstream's turn is over. A terminal
 * state, or an event marked `final`, ends it now. A v1.0 interrupted state (no `final`) ends it
 * only if it is the stream's last event: it is kept in `st.pending` and the caller returns it when
 * the stream closes (`interruptedEnds`: a subscription, which stays open across it, ends there).
 * An event marked `final: false` is progress, whatever its state. A task answers a blocking send
 * whole, so an interrupted one ends the turn; in a send's stream (`streamed`) it is the opening
 * snapshot, and a continued task opens its stream with the state it waited in (the a2a-js SDK
 * streams what the executor re-announces), so it ends the turn only as the stream's last event.
 */
export function apply(
  e: StreamResponse,
  st: Progress,
  emit: TurnEmitter,
  final: Finality = undefined,
  interruptedEnds = false,
  streamed = false,
): TurnResult | undefined {
  st.pending = undefined;
  if ("message" in e) {
    // the upstream answered with a Message, not a task: the caller gets a Message too
    st.contextId = e.message.contextId ?? st.contextId;
    // (a fleet node can answer nothing else: its answers stay tasks)
    if (st.protocol !== "hermes-fleet") st.reply = "message";
    return withUsage(
      { state: "TASK_STATE_COMPLETED", parts: nonEmpty(e.message.parts), metadata: st.metadata() },
      e.message.metadata,
    );
  }
  if ("artifactUpdate" in e) {
    const u = e.artifactUpdate;
    st.taskId ??= u.taskId;
    // an agent that streams a partial text, then the whole under the same id (append: false, as
    // Google's ADK does), answers with the whole, once
    const id = u.artifact.artifactId || `#${st.artifacts.size}`;
    const prev = st.artifacts.get(id);
    st.artifacts.set(id, prev && u.append ? appendChunk(prev, u.artifact.parts) : u.artifact.parts);
    emit.artifact(u.artifact, {
      ...(u.append !== undefined ? { append: u.append } : {}),
      ...(u.lastChunk !== undefined ? { lastChunk: u.lastChunk } : {}),
    });
    return undefined;
  }
  const status = "task" in e ? e.task.status : e.statusUpdate.status;
  st.lastState = status.state;
  if ("task" in e) {
    st.taskId = e.task.id;
    st.contextId = e.task.contextId || st.contextId;
    const answer = lastAgentMessage(e.task.history);
    if (answer) st.last = answer;
    if (isSettled(status.state) && !st.artifacts.size) {
      // a blocking answer: its artifacts were never streamed
      for (const a of e.task.artifacts ?? []) emit.artifact(a, { lastChunk: true });
      st.artifacts = new Map((e.task.artifacts ?? []).map((a, i) => [a.artifactId || `#${i}`, a.parts]));
    }
  } else {
    st.taskId ??= e.statusUpdate.taskId;
    st.contextId ??= e.statusUpdate.contextId;
  }
  const ends = final ?? (("task" in e && !streamed) || isTerminal(status.state) || interruptedEnds);
  if (!isSettled(status.state) || final === false) {
    // progress passes through whole: data and file parts, and the event's metadata
    const m = status.message;
    if (m?.parts.length && !("task" in e)) {
      st.last = m;
      emit.progress(
        { parts: m.parts, ...(m.metadata ? { metadata: m.metadata } : {}) },
        "statusUpdate" in e ? e.statusUpdate.metadata : undefined,
      );
    }
    return undefined;
  }
  // this turn's usage rides on its answer; a task's own metadata may add up every turn so far
  const meta = "task" in e ? e.task.metadata : e.statusUpdate.metadata;
  const r = settled(status.state, status.message, st);
  const usage = usageOf(status.message?.metadata) ?? usageOf(meta);
  const result = usage ? { ...r, usage } : r;
  if (ends) return result;
  st.pending = result;
  return undefined;
}

/**
 * The usage an upstream reports, counted against this relay's budgets: `metadata.usage` of its
 * answer message (else of its final status update or task), as another relay writes it (`inputTokens`,
 * `outputTokens`, `costUsd`; the snake_case spellings too).
 */
function usageOf(metadata: Record<string, unknown> | undefined): Usage | undefined {
  const u = metadata?.usage;
  if (typeof u !== "object" || u === null) return undefined;
  const r = u as Record<string, unknown>;
  const num = (...keys: string[]) => {
    for (const k of keys)
      if (typeof r[k] === "number" && Number.isFinite(r[k]) && (r[k] as number) >= 0) return r[k] as number;
    return undefined;
  };
  const inputTokens = num("inputTokens", "input_tokens");
  const outputTokens = num("outputTokens", "output_tokens");
  const costUsd = num("costUsd", "cost_usd");
  if (inputTokens === undefined && outputTokens === undefined && costUsd === undefined) return undefined;
  return {
    ...(inputTokens !== undefined ? { inputTokens } : {}),
    ...(outputTokens !== undefined ? { outputTokens } : {}),
    ...(costUsd !== undefined ? { costUsd } : {}),
  };
}

function withUsage(r: TurnResult, metadata: Record<string, unknown> | undefined): TurnResult {
  const usage = usageOf(metadata);
  return usage ? { ...r, usage } : r;
}

/**
 * The turn's answer: the final status message; else what the turn produced, its artifacts or the
 * last message the agent sent while working (an upstream that ends its turn with a bare
 * input-required, as the Gemini CLI's A2A server does, said everything before).
 */
function settled(state: string, message: Message | undefined, st: Progress): TurnResult {
  const produced = [...st.artifacts.values()].flat();
  const parts = message?.parts.length ? message.parts : produced.length ? produced : (st.last?.parts ?? []);
  const metadata = st.metadata();
  switch (state) {
    case "TASK_STATE_COMPLETED":
      return { state: "TASK_STATE_COMPLETED", parts: nonEmpty(parts), metadata };
    case "TASK_STATE_INPUT_REQUIRED":
    case "TASK_STATE_AUTH_REQUIRED":
      return { state: "TASK_STATE_INPUT_REQUIRED", parts: nonEmpty(parts, "input required"), metadata };
    case "TASK_STATE_REJECTED":
      return {
        state: "TASK_STATE_REJECTED",
        parts: nonEmpty(parts, "rejected by the upstream agent"),
        metadata,
      };
    case "TASK_STATE_CANCELED":
      return {
        state: "TASK_STATE_FAILED",
        parts: [{ text: `the upstream agent canceled its task${textOf(parts) ? `: ${textOf(parts)}` : ""}` }],
        metadata,
      };
    default:
      return { state: "TASK_STATE_FAILED", parts: nonEmpty(parts, "the upstream agent failed"), metadata };
  }
}

export function failed(err: unknown, st: Progress | undefined): TurnResult {
  const meta = st?.metadata() ?? {};
  if (err instanceof TurnFailure) {
    return {
      state: "TASK_STATE_FAILED",
      parts: [{ text: err.message }],
      metadata: { ...meta, error: { code: err.code, reason: err.reason } },
    };
  }
  if (err instanceof UpstreamError) {
    // a fleet node's -32001 is "a turn is already running in this context", not TaskNotFound
    const busy = err.kind === "rpc" && err.code === -32001 && st?.protocol === "hermes-fleet";
    const error = busy
      ? { code: -32043, reason: "CONTEXT_BUSY" }
      : err.kind === "rpc"
        ? { code: err.code, reason: err.reason ?? "UPSTREAM_ERROR" }
        : { code: -32045, reason: "UPSTREAM_UNAVAILABLE" };
    // the upstream relay declined to run the turn at all (a budget, e.g. max_turns_per_context)
    const state = err.kind === "rpc" && err.code === -32042 ? "TASK_STATE_REJECTED" : "TASK_STATE_FAILED";
    return { state, parts: [{ text: err.message }], metadata: { ...meta, error } };
  }
  throw err;
}

/**
 * The answer's copy of an artifact an `append` continues: text that runs on from the chunk before
 * joins that chunk's last text part. A token stream (the Strands Agents server: the text, then an
 * empty last chunk) answers with its whole text in one part; a part per chunk read as a line each
 * by clients that join parts with newlines. The artifact itself keeps every part as sent.
 */
function appendChunk(prev: Part[], next: Part[]): Part[] {
  const last = prev[prev.length - 1];
  const [first, ...rest] = next;
  if (!last || !first || !plainText(last) || !plainText(first)) return [...prev, ...next];
  return [...prev.slice(0, -1), { ...last, text: `${last.text}${first.text}` }, ...rest];
}

const plainText = (p: Part): p is Part & { text: string } =>
  p.text !== undefined && p.metadata === undefined && (p.mediaType ?? "text/plain") === "text/plain";

function nonEmpty(parts: Part[], fallback = ""): Part[] {
  return parts.length ? parts : [{ text: fallback }];
}
