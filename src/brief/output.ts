import { Validator } from "@cfworker/json-schema";
import { type Artifact, type Part, type TaskState, textOf } from "../a2a/types.ts";
import { extractJson } from "./extract.ts";
import { type Brief, schemaOf } from "./schema.ts";

export interface TurnOutcome {
  state: TaskState;
  parts: Part[];
}

export interface CheckedOutcome extends TurnOutcome {
  /** The validated answer as a data artifact (name `result`), for a COMPLETED turn. */
  artifact?: Artifact;
}

/**
 * Post-process a turn against its brief's `expected_output` JSON Schema. Pure. Only a COMPLETED
 * turn with a schema is touched: its answer (a data part the agent returned, else JSON extracted
 * from its text) is validated; valid → a `result` data artifact; no JSON or invalid → FAILED with
 * the reasons first and the agent's answer after them.
 */
export function checkExpectedOutput(
  brief: Brief | undefined,
  outcome: TurnOutcome,
  newId: () => string,
): CheckedOutcome {
  const schema = brief && schemaOf(brief);
  if (!schema || outcome.state !== "TASK_STATE_COMPLETED") return outcome;
  const dataPart = outcome.parts.find((p) => p.data !== undefined);
  const found = dataPart ? { ok: true as const, value: dataPart.data } : extractJson(textOf(outcome.parts));
  if (!found.ok) return failed(`expected_output: ${found.reason}`, outcome.parts);
  const errors = validateJson(schema, found.value);
  if (errors.length) {
    const list = errors.map((e) => `- ${e}`).join("\n");
    return failed(`expected_output: the answer does not match the JSON Schema:\n${list}`, outcome.parts);
  }
  const artifact: Artifact = {
    artifactId: newId(),
    name: "result",
    parts: [{ data: found.value, mediaType: "application/json" }],
  };
  return { ...outcome, artifact };
}

/** Validation errors of `value` against `schema` (JSON Schema 2020-12), one line each; [] = valid. */
export function validateJson(schema: Record<string, unknown>, value: unknown): string[] {
  let r: ReturnType<Validator["validate"]>;
  try {
    r = new Validator(schema, "2020-12", false).validate(value);
  } catch (err) {
    return [`the JSON Schema cannot be applied: ${(err as Error).message.split("\n")[0]!.trim()}`];
  }
  if (r.valid) return [];
  // keep the leaves: an error whose keyword location is a prefix of another's only wraps it
  const leaves = r.errors.filter(
    (e) =>
      !r.errors.some((o) => o !== e && o.keywordLocation.startsWith(`${e.keywordLocation}/`)) &&
      !(e.keyword === "false" && r.errors.length > 1),
  );
  const lines = leaves.map((e) => {
    const at = e.instanceLocation.replace(/^#/, "") || "(root)";
    return `${at}: ${e.error}`;
  });
  return [...new Set(lines)];
}

function failed(text: string, answer: Part[]): CheckedOutcome {
  const said = textOf(answer).trim();
  const parts: Part[] = [{ text }];
  if (said) parts.push({ text: `--- the agent's answer ---\n${said}` });
  return { state: "TASK_STATE_FAILED", parts };
}
