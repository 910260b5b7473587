import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";

/**
 * The a2a_fleet client gives up after 30 s without a byte. A fleet-dialect answer that takes longer
 * than the keepalive interval comes after whitespace sent every interval (valid before JSON).
 */

let r: TestRelay;
// keepalive_s far above the client's 30 s: the fleet whitespace keeps its own bound (here 100 ms)
let slow: TestRelay;
beforeAll(async () => {
  r = await startTestRelay({ keepaliveMs: 100 });
  slow = await startTestRelay({ keepaliveMs: 60_000, fleetQuietMs: 100 });
});
afterAll(async () => {
  await r?.stop();
  await slow?.stop();
});

async function fleetTimed(
  text: string,
  relay: TestRelay = r,
): Promise<{ status: number; body: string; gaps: number[] }> {
  const t0 = performance.now();
  const res = await fetch(`${relay.url}/a2a/echo/jsonrpc`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${relay.token}` },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: "k1",
      method: "SendMessage",
      params: { message: { role: "user", parts: [{ text }], contextId: `ka-${crypto.randomUUID()}` } },
    }),
  });
  const reader = res.body!.getReader();
  const gaps: number[] = [];
  let last = t0;
  let body = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    body += new TextDecoder().decode(value);
  }
  return { status: res.status, body, gaps };
}

test("a slow fleet answer: whitespace every interval, then the answer the client parses", async () => {
  const { status, body, gaps } = await fleetTimed("sleep:700 slow answer");
  expect(status).toBe(200);
  expect(body).toMatch(/^ +\{/);
  expect(JSON.parse(body).result.message.parts[0].text).toBe("slow answer");
  // without the keepalive the only byte would come after ~700 ms
  expect(Math.max(...gaps)).toBeLessThan(400);
  expect(gaps.length).toBeGreaterThan(3);
});

test("a fast fleet answer is plain JSON; a failed slow turn is -32046 after the whitespace", async () => {
  const fast = await fleetTimed("quick");
  expect(fast.body).toStartWith("{");
  const failed = await fleetTimed("sleep:300 fail: broke");
  expect(failed.body).toMatch(/^ +\{/);
  const err = JSON.parse(failed.body).error;
  expect(err.code).toBe(-32046);
  expect(err.message).toContain("broke");
});

test("a keepalive_s longer than the client's 30 s does not silence a slow fleet answer", async () => {
  const { body, gaps } = await fleetTimed("sleep:700 slow answer", slow);
  expect(body).toMatch(/^ +\{/);
  expect(JSON.parse(body).result.message.parts[0].text).toBe("slow answer");
  expect(Math.max(...gaps)).toBeLessThan(400);
});
