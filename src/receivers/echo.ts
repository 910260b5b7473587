import { textOf } from "../a2a/types.ts";
import { contextText } from "../brief/render.ts";
import { sleep } from "./sleep.ts";
import type { Receiver, TurnResult } from "./types.ts";

export interface EchoOptions {
  /** Delay before answering; lets tests and demos exercise streaming, cancel and restarts. */
  delayMs?: number;
}

/**
 * Answers with the text it was sent. A message text of the form `sleep:<ms> rest` waits that long
 * first (bounded by the turn cap and cancel), `fail: reason` fails the turn, and `ask: question`
 * ends the turn in INPUT_REQUIRED: handy for exercising every path of a client. A message with a
 * structured brief is answered with the brief's context, so tests can see the brief arrived.
 */
export function echoReceiver(opts: EchoOptions = {}): Receiver {
  return {
    kind: "echo",
    async run(turn, emit, signal): Promise<TurnResult> {
      let text = textOf(turn.message.parts);
      let delay = opts.delayMs ?? 0;
      const m = /^sleep:(\d{1,7})\s*/.exec(text);
      if (m) {
        delay = Number(m[1]);
        text = text.slice(m[0].length);
      }
      if (delay > 0) {
        emit.progress(`echo: waiting ${delay} ms`);
        await sleep(delay, signal);
      }
      const usage = { inputTokens: countTokens(text), outputTokens: countTokens(text), costUsd: 0 };
      if (text.startsWith("fail:")) {
        return { state: "TASK_STATE_FAILED", parts: [{ text: text.slice(5).trim() || "failed" }], usage };
      }
      if (text.startsWith("ask:")) {
        return { state: "TASK_STATE_INPUT_REQUIRED", parts: [{ text: text.slice(4).trim() }], usage };
      }
      const answer = turn.brief ? contextText(turn.brief) : text;
      return { state: "TASK_STATE_COMPLETED", parts: [{ text: answer }], usage };
    },
  };
}

// internal

function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
