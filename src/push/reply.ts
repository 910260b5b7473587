import { type Message, type Task, textOf } from "../a2a/types.ts";
import { stateToV03 } from "../a2a/v03.ts";

/**
 * A brief's `reply_to = "relay:<profile>"`: the settled task becomes a new local message to that
 * profile. Its messageId is derived from the source task, so a retried delivery never runs twice.
 */
export function replyMessage(task: Task): Message {
  const answer =
    (task.artifacts ?? [])
      .map((a) => textOf(a.parts))
      .filter(Boolean)
      .join("\n") || textOf(task.status.message?.parts ?? []);
  return {
    messageId: `reply-to:${task.id}`,
    role: "ROLE_USER",
    parts: [{ text: `Result of task ${task.id} (${stateToV03(task.status.state)}):\n${answer}` }],
    metadata: { replyTo: { taskId: task.id, contextId: task.contextId, state: task.status.state } },
  };
}
