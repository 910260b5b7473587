import type { Context } from "hono";
import { hasControlChars, isSettled, type Message, partsText, type Task, textOf } from "../a2a/types.ts";
import { stateToV03 } from "../a2a/v03.ts";
import { invalidParams } from "../errors.ts";
import type { Engine } from "../tasks/engine.ts";
import type { AppEnv } from "./types.ts";

interface SendRouteOptions {
  engine: Engine;
}

/**
 * `POST /send/{profile}`: plain text for curl. The body is the message; the answer is the final
 * text. `?context=ID` continues a conversation, `?stream=1` streams progress lines, `?wait=0`
 * answers 202 with the task id at once. An `Idempotency-Key` header makes retries safe.
 * Statuses: 200 completed (or input required), 422 failed/rejected, 409 canceled. Runs after the
 * front door's preamble (http/request.ts); errors are rendered by http/errors.ts.
 */
export function sendHandler(opts: SendRouteOptions) {
  return async (c: Context<AppEnv>) => {
    c.set("rpcMethod", "send");
    const peer = c.var.peer;
    const text = (await c.req.text()).replace(/\r?\n$/, "");
    if (!text.trim()) throw invalidParams("the body is the message text; it is empty");
    const context = contextParam(c.req.query("context"));
    const key = c.req.header("idempotency-key");
    const message: Message = {
      messageId: key && /^[\w.:-]{1,200}$/.test(key) ? key : crypto.randomUUID(),
      role: "ROLE_USER",
      parts: [{ text }],
      ...(context ? { contextId: context } : {}),
    };
    // progress can be followed when the answer streams or the call returns at once
    const progress = c.req.query("stream") === "1" || c.req.query("wait") === "0";
    const task = await opts.engine.send({
      peer: peer.name,
      profile: c.var.profile,
      origin: "a2a",
      message,
      hops: c.var.hops,
      progress,
    });
    const ids = { "A2A-Task-Id": task.id, "A2A-Context-Id": task.contextId };
    if (c.req.query("wait") === "0") {
      return c.text(`${task.id}\n`, 202, { ...ids, "A2A-Task-State": stateToV03(task.status.state) });
    }
    c.env?.keepOpen?.();
    if (c.req.query("stream") === "1")
      return streamLines(opts.engine, peer.name, task, ids, c.req.raw.signal);
    const done = await opts.engine.waitSettled(task.id, peer.name, c.req.raw.signal);
    return c.text(`${finalText(done)}\n`, statusOf(done) as 200, {
      ...ids,
      "A2A-Task-State": stateToV03(done.status.state),
    });
  };
}

// internal

/**
 * `?context=`: checked before anything runs, since it goes back in the `A2A-Context-Id` header,
 * which cannot hold a control character or anything outside Latin-1.
 */
function contextParam(v: string | undefined): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (v.length > 256) throw invalidParams("context: at most 256 characters", "context");
  if (hasControlChars(v)) throw invalidParams("context: must not contain control characters", "context");
  if ([...v].some((ch) => ch.codePointAt(0)! > 0xff)) {
    throw invalidParams(
      "context: only Latin-1 characters here (it comes back in the A2A-Context-Id header); use JSON-RPC for other ids",
      "context",
    );
  }
  return v;
}

function finalText(t: Task): string {
  const fromArtifacts = (t.artifacts ?? [])
    .map((a) => textOf(a.parts))
    .filter(Boolean)
    .join("\n");
  return t.status.state === "TASK_STATE_COMPLETED" && fromArtifacts
    ? fromArtifacts
    : partsText(t.status.message?.parts) || stateToV03(t.status.state);
}

function statusOf(t: Task): number {
  // the relay stopped before the turn ended: it goes on in the next process
  if (!isSettled(t.status.state)) return 202;
  switch (t.status.state) {
    case "TASK_STATE_FAILED":
    case "TASK_STATE_REJECTED":
      return 422;
    case "TASK_STATE_CANCELED":
      return 409;
    default:
      return 200;
  }
}

/** Progress as lines: `[state]` on state changes, `> text` for progress, then the final text. */
function streamLines(
  engine: Engine,
  peer: string,
  task: Task,
  ids: Record<string, string>,
  signal: AbortSignal,
) {
  const enc = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let last = "";
      const write = (s: string) => controller.enqueue(enc.encode(`${s}\n`));
      const onTask = (t: Task) => {
        const state = stateToV03(t.status.state);
        if (state !== last) {
          write(`[${state}]`);
          last = state;
        }
        if (isSettled(t.status.state)) {
          write(finalText(t));
          stop();
          controller.close();
        }
      };
      const w = engine.watch(task.id, peer, (e) => {
        if ("statusUpdate" in e.event && !isSettled(e.task.status.state)) {
          const msg = e.event.statusUpdate.status.message;
          // one line each, data parts (a tool call, an approval request) as compact JSON
          if (msg) write(`> ${partsText(msg.parts).replace(/\s*\n\s*/g, " ⏎ ")}`);
        }
        onTask(e.task);
      });
      stop = w.stop;
      signal.addEventListener("abort", () => stop(), { once: true });
      onTask(w.task);
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", ...ids },
  });
}
