import { describe, expect, test } from "bun:test";
import { UpstreamCancels } from "../../src/receivers/a2a/cancels.ts";
import { UpstreamError } from "../../src/receivers/a2a/http.ts";
import type { Wire } from "../../src/receivers/a2a/wire.ts";
import type { SessionStore } from "../../src/store/sessions.ts";
import { ManualClock } from "../helpers/clock.ts";
import { until } from "../helpers/until.ts";

describe("upstream cancels on the injected clock", () => {
  test("an unreachable upstream's cancel is retried with backoff, then given up: no test sleeps for it", async () => {
    const clock = new ManualClock();
    let tries = 0;
    const removed: string[] = [];
    const logged: string[] = [];
    const sessions = {
      put: async () => {},
      remove: async (k: { contextId: string }) => {
        removed.push(k.contextId);
      },
    } as unknown as SessionStore;
    const cancels = new UpstreamCancels({
      profile: "far",
      sessions: () => sessions,
      wire: async () =>
        ({
          cancel: async () => {
            tries++;
            throw new UpstreamError("upstream unavailable: connection refused", "unavailable");
          },
        }) as unknown as Wire,
      log: (_fields, msg) => logged.push(msg),
      backoffMs: [1000, 5000],
      giveUpMs: 8000,
      now: clock.now,
      timers: clock,
    });
    const c = { relayTaskId: "t1", peer: "p", upstreamTaskId: "u1", since: clock.now() };
    expect(await cancels.request(c)).toBe("pending");
    expect(tries).toBe(1);
    clock.advance(999);
    expect(tries).toBe(1);
    clock.advance(1);
    await until(() => clock.pending === 1 && tries === 2);
    clock.advance(5000);
    await until(() => clock.pending === 1 && tries === 3);
    clock.advance(5000); // 11 s after the first try: past giveUpMs
    await until(() => removed.length === 1);
    expect(tries).toBe(4);
    expect(clock.pending).toBe(0);
    expect(logged).toEqual(["upstream cancel given up after 24 h: the upstream never answered"]);
  });
});
