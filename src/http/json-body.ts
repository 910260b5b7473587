import { bodyTooDeep, parseError } from "../errors.ts";

/**
 * How deeply a request body may nest arrays and objects. Everything after JSON.parse (key
 * conversion, zod, the database's JSON) walks bodies recursively; without a bound, 100,000 nested
 * arrays in `message.metadata` end in "Maximum call stack size exceeded". 64 levels leave ample
 * room for any real metadata.
 */
const MAX_JSON_DEPTH = 64;

/** JSON.parse a request body (-32700 when it is not JSON). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw parseError();
  }
}

/** Refuse a parsed body nested deeper than `maxDepth` (-32600 / 400 naming the limit). */
export function checkDepth<T>(body: T, maxDepth = MAX_JSON_DEPTH): T {
  if (depthExceeds(body, maxDepth)) throw bodyTooDeep(maxDepth);
  return body;
}

/** Whether `value` nests arrays/objects more than `max` levels (iterative: no recursion to overflow). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 1 }];
  while (stack.length) {
    const { v, d } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push({ v: child, d: d + 1 });
    }
  }
  return false;
}
