import type { z } from "zod";

/**
 * "Did you mean" for unknown config keys, commands and flags: the closest known name within a
 * small edit distance (or one that starts the same way).
 */
export function didYouMean(word: string, known: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(word.toLowerCase(), name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.name.length) / 3));
  return best.d <= limit ? best.name : undefined;
}

/** The keys a config object at `path` accepts (unwrapping optional, default, lazy, record). */
export function keysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (let i = 0; i < 10; i++) {
      const def = (
        s as {
          def?: { type?: string; innerType?: unknown; in?: unknown; out?: unknown; getter?: () => unknown };
        }
      )?.def;
      if (!def) return;
      if (
        def.innerType &&
        ["optional", "default", "nullable", "prefault", "catch", "readonly"].includes(def.type ?? "")
      ) {
        s = def.innerType;
      } else if (def.type === "pipe" && def.in) {
        // a transform checks what comes in; a section built on first use (schema.ts) what goes out
        s = (def.out as { def?: { type?: string } } | undefined)?.def?.type === "lazy" ? def.out : def.in;
      } else if (def.type === "lazy" && def.getter) {
        s = def.getter();
      } else return;
    }
  };
  unwrap();
  for (const key of path) {
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; valueType?: unknown } })?.def;
    if (def?.type === "object" && def.shape) s = def.shape[String(key)];
    else if (def?.type === "record") s = def.valueType;
    else return [];
    unwrap();
  }
  const def = (s as { def?: { type?: string; shape?: Record<string, unknown> } })?.def;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

// internal

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
