/**
 * ProtoJSON accepts a message's original proto field names (`history_length`, `task_id`) as well
 * as their lowerCamelCase JSON names, and so does the official SDK: this turns the former into the
 * latter. Free-form values (`metadata`, a data part's `data`) keep their keys as sent; where both
 * spellings are present, the camelCase one wins.
 */
export function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  const snake: [string, unknown][] = [];
  for (const [k, v] of Object.entries(value)) {
    const converted = FREE_FORM.has(k) ? v : camelKeys(v);
    if (k.includes("_")) snake.push([k, converted]);
    else out[k] = converted;
  }
  for (const [k, v] of snake) {
    const camel = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (!Object.hasOwn(out, camel)) out[camel] = v;
  }
  return out;
}

// internal

/** Keys whose values are google.protobuf.Struct/Value in the spec: their keys are data. */
const FREE_FORM = new Set(["metadata", "data", "params"]);
