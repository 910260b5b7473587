import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/**
 * Every block of the relay's event streams (the text between blank lines) carries an event: its
 * opening comment and keepalives end with one newline and join the next event's lines. A block of
 * comments alone is valid SSE, but clients with their own parsers (Mastra's) take it for an event
 * and fail on it; test/clis/mastra-client.clitest.ts runs that client.
 */

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay({ toml: "[server]\nkeepalive_s = 0.5\n" });
});
afterAll(async () => {
  await r.stop();
});

test("a stream with keepalives between its events has no block without data", async () => {
  const res = await fetch(`${r.url}/a2a/echo`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.token}`, "content-type": "application/json", "a2a-version": "1.0" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendStreamingMessage",
      params: { message: userMessage("sleep:1300 long enough for two keepalives") },
    }),
  });
  const text = await res.text();
  expect(text.startsWith(": stream open\n")).toBe(true);
  expect(text.match(/: keepalive\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  const blocks = text.split(/\n\n/).filter((b) => b.trim());
  for (const b of blocks) expect(b.split("\n").some((l) => l.startsWith("data: "))).toBe(true);
  const last = JSON.parse(
    blocks
      .at(-1)!
      .split("\n")
      .find((l) => l.startsWith("data: "))!
      .slice(6),
  );
  expect(last.result.statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
});
