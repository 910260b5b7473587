import { z } from "zod";
import type { Message, Task } from "./types.ts";
import { IdSchema, textOf } from "./types.ts";

/**
 * The older Hermes fleet dialect: header-less `SendMessage` (or `message/send`) whose message has
 * no `messageId`; only the first text part matters; the answer, sent once the turn has ended, is
 * `{"kind":"message","message":{"role":"agent","parts":[{"text":…}],"contextId":…}}`.
 */

export const HermesParams = z.object({
  message: z.object({
    role: z.string().optional(),
    parts: z.array(z.object({ text: z.string().optional() }).passthrough()).min(1),
    contextId: IdSchema.optional(),
  }),
});

export function isHermesFleet(headerVersion: string | undefined, method: string, params: unknown): boolean {
  if (headerVersion) return false;
  if (method !== "SendMessage" && method !== "message/send") return false;
  const m = (params as { message?: { messageId?: unknown } } | undefined)?.message;
  return typeof m === "object" && m !== null && m.messageId === undefined;
}

/** Whether a fleet message is an agent's (a receiver's post-back), not a user's turn. */
export function isAgentRole(role: string | undefined): boolean {
  return role === "agent" || role === "ROLE_AGENT";
}

export function messageFromHermes(p: z.infer<typeof HermesParams>, newId: () => string): Message {
  const text = p.message.parts.find((x) => typeof x.text === "string")?.text ?? "";
  return {
    messageId: newId(),
    role: isAgentRole(p.message.role) ? "ROLE_AGENT" : "ROLE_USER",
    parts: [{ text }],
    ...(p.message.contextId ? { contextId: p.message.contextId } : {}),
  };
}

/** The answer the fleet client accepts: the agent's final text as a direct message. */
export function hermesAnswer(task: Task): Record<string, unknown> {
  const fromArtifacts = (task.artifacts ?? [])
    .map((a) => textOf(a.parts))
    .filter(Boolean)
    .join("\n");
  const text = fromArtifacts || textOf(task.status.message?.parts ?? []);
  return { kind: "message", message: { role: "agent", parts: [{ text }], contextId: task.contextId } };
}

/** The request a relay sends to an older Hermes fleet node: no `messageId`, text only. */
export function hermesRequest(text: string, contextId: string | undefined): Record<string, unknown> {
  return { message: { role: "user", parts: [{ text }], ...(contextId ? { contextId } : {}) } };
}

const HermesAnswer = z.object({
  kind: z.literal("message"),
  message: z.object({
    role: z.string().optional(),
    parts: z.array(z.object({ text: z.string().optional() }).passthrough()),
    contextId: z.string().optional(),
  }),
});

/** A fleet node's answer as a v1.0 agent message (throws on anything but `kind: "message"`). */
export function messageFromHermesAnswer(result: unknown, newId: () => string): Message {
  const a = HermesAnswer.parse(result);
  const text = a.message.parts
    .map((p) => p.text)
    .filter((t): t is string => typeof t === "string")
    .join("\n");
  return {
    messageId: newId(),
    role: "ROLE_AGENT",
    parts: [{ text }],
    ...(a.message.contextId ? { contextId: a.message.contextId } : {}),
  };
}
