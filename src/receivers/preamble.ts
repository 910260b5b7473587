import { renderBrief } from "../brief/render.ts";
import type { Brief } from "../brief/schema.ts";

/** What the role preamble says about a turn. Everything here comes from the relay, not the message. */
export interface PreambleInput {
  peer: string;
  profile: string;
  workdir: string;
  origin: "a2a" | "local";
  taskId: string;
  contextId: string;
  /** The message's structured brief, rendered after the message text (`renderBrief`). */
  brief?: Brief | undefined;
}

/**
 * The role preamble put before every prompt a coding agent gets through the relay: who sent the
 * task, where the agent works, and how its answer travels back. One text for all handlers.
 */
export function rolePreamble(p: PreambleInput): string {
  const who =
    p.origin === "a2a"
      ? `the agent "${p.peer}", over the A2A protocol`
      : `"${p.peer}", a user on this host, through the a2a-relay command line`;
  return [
    `[a2a-relay] This task comes from ${who}.`,
    `You work as profile "${p.profile}" in ${p.workdir}: read and change files only inside this directory.`,
    `Do the task, then end with a short reply to "${p.peer}": what you did, which files you changed, and anything they must check. Your final message is the only thing sent back. If you cannot go on without an answer from them, ask for exactly what you need in that final message.`,
    `(task ${p.taskId}, conversation ${p.contextId})`,
  ].join("\n");
}

/** The prompt of one turn: the preamble, then the message text (and its brief, if any). */
export function withPreamble(p: PreambleInput, text: string): string {
  const body = p.brief ? renderBrief(p.brief, text) : text;
  return `${rolePreamble(p)}\n\n--- message from "${p.peer}" ---\n${body}`;
}
