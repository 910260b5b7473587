/** A v1.0 user message with a fresh messageId (`extra` adds or overrides fields). */
export function userMessage(text: string, extra: Record<string, unknown> = {}) {
  return { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], ...extra };
}

/** The same in v0.3 shape (kind-tagged, lower-case role). */
export function userMessageV03(text: string, extra: Record<string, unknown> = {}) {
  return {
    kind: "message",
    messageId: crypto.randomUUID(),
    role: "user",
    parts: [{ kind: "text", text }],
    ...extra,
  };
}
