import { describe, expect, test } from "bun:test";
import { uuidv7 } from "../../src/ids.ts";

describe("uuidv7", () => {
  test("is an RFC 9562 version-7 UUID carrying the millisecond it was made", () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBeGreaterThanOrEqual(now);
  });

  test("ids sort in the order they were made, within one millisecond and across them", () => {
    const t = Date.now() + 60_000; // ahead of any id made before this test
    const ids = [
      ...Array.from({ length: 5000 }, () => uuidv7(t)), // more than the 12-bit counter holds
      ...Array.from({ length: 10 }, (_, i) => uuidv7(t + 10 + i)),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  test("a clock that steps back still yields increasing ids", () => {
    const t = Date.now() + 120_000;
    const a = uuidv7(t);
    const b = uuidv7(t - 5000);
    expect(b > a).toBe(true);
  });
});
