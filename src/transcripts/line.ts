import type { Part } from "../a2a/types.ts";
import type { Usage } from "../receivers/types.ts";
import type { TurnMessage } from "../tasks/engine.ts";

/** One transcript line (the contract's shape; `state` is added on "out" lines). */
export interface TranscriptLine {
  ts: string;
  origin: "a2a" | "local";
  peer: string;
  profile: string;
  /** Namespaced: `a2a:<peer>:<contextId>` or `local:<contextId>`. */
  context: string;
  task: string;
  message: string;
  dir: "in" | "out";
  role: "user" | "agent";
  text: string;
  usage?: Usage;
  state?: string;
}

/**
 * The namespaced conversation id. A2A turns are scoped to the peer that sent them, so two peers
 * using the same contextId never share one; turns started on this host live apart from both.
 */
function namespacedContext(origin: "a2a" | "local", peer: string, contextId: string): string {
  return origin === "local" ? `local:${contextId}` : `a2a:${peer}:${contextId}`;
}

export function lineOf(m: TurnMessage, now: number): TranscriptLine {
  return {
    ts: new Date(now).toISOString(),
    origin: m.origin,
    peer: m.peer,
    profile: m.profile,
    context: namespacedContext(m.origin, m.peer, m.contextId),
    task: m.taskId,
    message: m.message.messageId,
    dir: m.dir,
    role: m.message.role === "ROLE_USER" ? "user" : "agent",
    text: textOfParts(m.message.parts),
    ...(m.usage ? { usage: m.usage } : {}),
    ...(m.state ? { state: m.state } : {}),
  };
}

/** A file-name-safe form of a peer or profile name (config names are already safe). */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, "_");
  return /^[A-Za-z0-9]/.test(s) ? s : `_${s}`;
}

/** Parse one line; undefined for anything that is not a whole transcript object. */
export function parseLine(text: string): TranscriptLine | undefined {
  try {
    const v = JSON.parse(text) as TranscriptLine;
    return v && typeof v === "object" && typeof v.ts === "string" && typeof v.context === "string"
      ? v
      : undefined;
  } catch {
    return undefined;
  }
}

// internal

function textOfParts(parts: readonly Part[]): string {
  return parts
    .map((p) =>
      p.text !== undefined
        ? p.text
        : p.data !== undefined
          ? JSON.stringify(p.data)
          : p.url !== undefined
            ? `[file ${p.url}]`
            : `[${p.raw?.length ?? 0} bytes]`,
    )
    .join("\n");
}
