import { partsText, type StreamResponse } from "../a2a/types.ts";
import { eventLine, messageText, stateName } from "./format.ts";

/**
 * What `send` and `tasks watch` show while a task runs. On a terminal: one status line (state,
 * elapsed time, tokens so far, the latest progress text) rewritten in place every second and at
 * every event, cleared before the answer is printed. Elsewhere: one line per event, as
 * `send --stream` prints them. Either way on stderr, so stdout carries only the answer.
 */
export interface ProgressDisplay {
  event(e: StreamResponse): void;
  /** Clear the status line (terminal) and stop the clock. */
  end(): void;
}

export interface ProgressOptions {
  write(text: string): void;
  /** Rewrite one line in place (a terminal), or print one line per event. */
  tty: boolean;
  /** Terminal width (the status line is cut to fit). */
  columns?: number | undefined;
  now?: () => number;
  /** How often the elapsed time is redrawn on a terminal (ms). */
  tickMs?: number;
}

export function progressDisplay(o: ProgressOptions): ProgressDisplay {
  const now = o.now ?? Date.now;
  const t0 = now();
  if (!o.tty) {
    return {
      // a direct Message is the answer itself, printed on stdout
      event: (e) => {
        if (!("message" in e)) o.write(`${eventLine(e)}\n`);
      },
      end: () => {},
    };
  }
  const s = { state: "submitted", text: "", tokens: undefined as number | undefined, id: "" };
  let drawn = false;
  const draw = () => {
    const secs = ((now() - t0) / 1000).toFixed(1);
    const tokens = s.tokens === undefined ? "" : `  ${s.tokens} tokens`;
    const text = s.text ? `  ${oneLine(s.text)}` : "";
    const line = `[${s.state}] ${secs}s${tokens}${text}`;
    const width = Math.max(20, (o.columns ?? 80) - 1);
    o.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    drawn = true;
  };
  const timer = setInterval(draw, o.tickMs ?? 1000);
  (timer as { unref?: () => void }).unref?.();
  draw();
  return {
    event(e) {
      if ("task" in e) {
        s.state = stateName(e.task.status.state);
        s.id = e.task.id;
        s.tokens = tokensOf(e.task.metadata) ?? s.tokens;
        s.text = messageText(e.task.status.message) || s.text;
      } else if ("statusUpdate" in e) {
        s.state = stateName(e.statusUpdate.status.state);
        s.tokens = tokensOf(e.statusUpdate.metadata) ?? s.tokens;
        s.text = messageText(e.statusUpdate.status.message) || s.text;
      } else if ("artifactUpdate" in e) {
        s.text = partsText(e.artifactUpdate.artifact.parts) || s.text;
      }
      draw();
    },
    end() {
      clearInterval(timer);
      if (drawn) o.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

// internal

function tokensOf(meta: Record<string, unknown> | undefined): number | undefined {
  const u = meta?.usage as { inputTokens?: number; outputTokens?: number } | undefined;
  if (!u || typeof u !== "object") return undefined;
  const n = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  return Number.isFinite(n) ? n : undefined;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}
