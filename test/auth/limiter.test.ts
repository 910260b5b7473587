import { describe, expect, test } from "bun:test";
import { FailureLimiter } from "../../src/auth/limiter.ts";

describe("FailureLimiter", () => {
  test("blocks an address after N failures within the window, for blockMs", () => {
    let t = 1_000_000;
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, blockMs: 30_000, now: () => t });
    l.fail("10.0.0.1");
    l.fail("10.0.0.1");
    expect(l.retryAfter("10.0.0.1")).toBe(0);
    l.fail("10.0.0.1");
    expect(l.retryAfter("10.0.0.1")).toBe(30);
    expect(l.retryAfter("10.0.0.2")).toBe(0);
    t += 29_500;
    expect(l.retryAfter("10.0.0.1")).toBe(1);
    t += 600;
    expect(l.retryAfter("10.0.0.1")).toBe(0);
  });

  test("failures spread over more than the window do not block", () => {
    let t = 0;
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, now: () => t });
    for (let i = 0; i < 10; i++) {
      l.fail("a");
      t += 31_000;
    }
    expect(l.retryAfter("a")).toBe(0);
  });

  test("memory is bounded: the least recently failing address is forgotten first", () => {
    const l = new FailureLimiter({ maxFailures: 2, capacity: 100, now: () => 5 });
    l.fail("keep");
    for (let i = 0; i < 99; i++) l.fail(`x${i}`);
    l.fail("keep"); // refreshes "keep" and blocks it
    for (let i = 99; i < 198; i++) l.fail(`x${i}`);
    expect(l.size).toBe(100);
    expect(l.retryAfter("keep")).toBeGreaterThan(0); // 99 newer addresses: still tracked
    l.fail("x198");
    expect(l.size).toBe(100);
    expect(l.retryAfter("keep")).toBe(0); // now the least recent: forgotten
    l.fail("y");
    l.fail("y");
    expect(l.retryAfter("y")).toBeGreaterThan(0);
  });

  test("bad options are a TypeError at construction", () => {
    expect(() => new FailureLimiter({ maxFailures: 0 })).toThrow(TypeError);
  });
});
