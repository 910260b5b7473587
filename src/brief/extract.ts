/**
 * Find the JSON answer in an agent's final text. Pure. A fenced ```json block wins (the last one,
 * as agents tend to end with the answer); else the first balanced `{…}` or `[…]` that parses.
 */
export type Extracted = { ok: true; value: unknown } | { ok: false; reason: string };

export function extractJson(text: string): Extracted {
  const fences = [...text.matchAll(/```json[^\n]*\n([\s\S]*?)```/gi)];
  if (fences.length) {
    const body = fences[fences.length - 1]![1]!;
    try {
      return { ok: true, value: JSON.parse(body) };
    } catch (err) {
      return { ok: false, reason: `the \`\`\`json block is not valid JSON (${(err as Error).message})` };
    }
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "{" && c !== "[") continue;
    const end = balancedEnd(text, i);
    if (end < 0) continue;
    try {
      return { ok: true, value: JSON.parse(text.slice(i, end + 1)) };
    } catch {
      // not JSON (prose in braces): try the next opening bracket
    }
  }
  return { ok: false, reason: "the answer contains no JSON (no ```json block and no {…} or […])" };
}

/** Index of the bracket closing the one at `start`, skipping JSON strings; -1 if unbalanced. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") stack.push("}");
    else if (c === "[") stack.push("]");
    else if (c === "}" || c === "]") {
      if (stack.pop() !== c) return -1;
      if (!stack.length) return i;
    }
  }
  return -1;
}
