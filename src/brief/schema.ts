import { Validator } from "@cfworker/json-schema";
import { z } from "zod";
import type { Message } from "../a2a/types.ts";
import { invalidParams } from "../errors.ts";

/**
 * The structured brief (contract "Structured brief"): scope and acceptance in machine-readable
 * form. It travels in a data part whose object has a `context` key, or in `message.metadata.brief`.
 */

const TYPES = new Set(["array", "boolean", "integer", "null", "number", "object", "string"]);

const nonEmpty = (s: string) => s.trim().length > 0;
const required = (what: string) => (iss: { input: unknown }) =>
  iss.input === undefined ? "is required" : what;

/** A JSON Schema object the validator accepts (its root `type`, if any, names JSON types). */
const JsonSchemaObject = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  const t = schema.type;
  const types = Array.isArray(t) ? t : t === undefined ? [] : [t];
  const bad = types.find((x) => typeof x !== "string" || !TYPES.has(x));
  if (bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `is not a usable JSON Schema: type ${JSON.stringify(bad)} is not one of ${[...TYPES].join(", ")}`,
    });
    return;
  }
  try {
    new Validator(schema).validate(null); // a dry run: unresolvable $refs throw here
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `is not a usable JSON Schema: ${firstLine(err)}` });
  }
});

const BriefSchema = z.strictObject({
  context: z.union(
    [z.string().refine(nonEmpty, { error: "must not be empty" }), z.record(z.string(), z.unknown())],
    {
      error: required("must be a non-empty string or a JSON object"),
    },
  ),
  expected_output: z.union(
    [z.string().refine(nonEmpty, { error: "must not be empty" }), z.record(z.string(), z.unknown())],
    {
      error: required("must be a non-empty string describing the answer, or a JSON Schema object"),
    },
  ),
  reply_to: z
    .string({ error: 'must be an http(s) URL or "relay:<profile>"' })
    .refine(isReplyTo, { error: 'must be an http(s) URL or "relay:<profile>"' })
    .optional(),
  deadline_s: z
    .number({ error: "must be a positive number of seconds" })
    .positive({ error: "must be a positive number of seconds" })
    .finite({ error: "must be a positive number of seconds" })
    .optional(),
});

export type Brief = z.infer<typeof BriefSchema>;

/** True when `expected_output` is a JSON Schema (the answer is then validated against it). */
export function schemaOf(brief: Brief): Record<string, unknown> | undefined {
  return typeof brief.expected_output === "object" ? brief.expected_output : undefined;
}

/** Where a message carries its brief: the raw value and the field name used in errors. */
function findBrief(message: Pick<Message, "parts" | "metadata">): unknown {
  const inParts = message.parts.filter(
    (p) => p.data !== null && typeof p.data === "object" && !Array.isArray(p.data) && "context" in p.data,
  );
  const inMeta = message.metadata?.brief;
  const count = inParts.length + (inMeta === undefined ? 0 : 1);
  if (count > 1) {
    throw invalidParams(
      "brief: the message carries more than one brief (data parts with a context key, metadata.brief); send one",
      "brief",
    );
  }
  return inParts[0]?.data ?? inMeta;
}

/**
 * The message's brief, validated; undefined when it has none. A bad brief throws -32602 naming
 * the field (`brief.deadline_s: must be a positive number of seconds`).
 */
export function parseBrief(message: Pick<Message, "parts" | "metadata">): Brief | undefined {
  const raw = findBrief(message);
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw invalidParams(
      "brief: must be a JSON object {context, expected_output, reply_to?, deadline_s?}",
      "brief",
    );
  }
  const r = BriefSchema.safeParse(raw);
  if (r.success) {
    const schema = schemaOf(r.data);
    if (schema) {
      const bad = JsonSchemaObject.safeParse(schema);
      if (!bad.success) {
        const msg = bad.error.issues[0]?.message ?? "is not a usable JSON Schema";
        throw invalidParams(`brief.expected_output: ${msg}`, "brief.expected_output");
      }
    }
    return r.data;
  }
  const issue = r.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    throw invalidParams(
      `brief.${key}: unknown field (a brief has context, expected_output, reply_to, deadline_s)`,
      `brief.${key}`,
    );
  }
  const path = ["brief", ...issue.path.map(String)].join(".");
  throw invalidParams(`${path}: ${issue.message}`, path);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim();
}

/** `https://…`, `http://…` or `relay:<profile>`; only the shape is checked here. */
export function isReplyTo(s: string): boolean {
  if (/^relay:[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s)) return true;
  try {
    const u = new URL(s);
    return (u.protocol === "https:" || u.protocol === "http:") && u.hostname.length > 0;
  } catch {
    return false;
  }
}
