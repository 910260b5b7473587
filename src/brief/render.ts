import { type Message, textOf } from "../a2a/types.ts";
import { type Brief, schemaOf } from "./schema.ts";

/**
 * The one prompt template for a structured brief. Pure. The message text (if any) comes first,
 * then the brief:
 *
 *     <message text>
 *
 *     --- brief ---
 *     Context:
 *     <context: the string, or the object as indented JSON>
 *
 *     Expected output:
 *     <the description>
 *       or, for a JSON Schema:
 *     End your reply with one JSON value, in a ```json fenced block, that validates against this
 *     JSON Schema (the relay checks it and returns it as the result):
 *     ```json
 *     <the schema>
 *     ```
 *
 *     Deadline: <deadline_s> s for this turn; past it the turn is stopped.   (only with deadline_s)
 *
 * `reply_to` is for the relay (where the result goes), not for the agent, and is not rendered.
 */
export function renderBrief(brief: Brief, text = ""): string {
  const schema = schemaOf(brief);
  const expected = schema
    ? [
        "End your reply with one JSON value, in a ```json fenced block, that validates against this JSON Schema (the relay checks it and returns it as the result):",
        "```json",
        JSON.stringify(schema, null, 2),
        "```",
      ].join("\n")
    : (brief.expected_output as string);
  const lines = ["--- brief ---", "Context:", contextText(brief), "", "Expected output:", expected];
  if (brief.deadline_s !== undefined) {
    lines.push("", `Deadline: ${brief.deadline_s} s for this turn; past it the turn is stopped.`);
  }
  const body = lines.join("\n");
  return text.trim() ? `${text}\n\n${body}` : body;
}

/** The brief's context as text: the string itself, or the object as indented JSON. */
export function contextText(brief: Brief): string {
  return typeof brief.context === "string" ? brief.context : JSON.stringify(brief.context, null, 2);
}

/** A turn's prompt text: the message's text, with the brief rendered after it when there is one. */
export function promptText(turn: { message: Pick<Message, "parts">; brief?: Brief | undefined }): string {
  const text = textOf(turn.message.parts);
  return turn.brief ? renderBrief(turn.brief, text) : text;
}
