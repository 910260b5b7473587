import { afterEach, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";

const TOKEN = "per-profile-bot-token-0123456789";
let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

function start(extra = "") {
  return startTestRelay({
    env: { BOT_TOKEN: TOKEN },
    toml: `
[profiles.echo]
handler = "echo"
[profiles.other]
handler = "echo"

[peers.bot]
profiles = ["*"]
token_env = "BOT_TOKEN"

[peers.bot.budget]
window = "24h"
max_turns = 100
[peers.bot.budget.profiles.echo]
window = "daily"
max_turns = 2
max_turns_per_context = 5
${extra}
`,
  });
}

async function send(r: TestRelay, profile: string, text = "hi") {
  const res = await fetch(`${r.url}/a2a/${profile}`, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] } },
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers are checked field by field
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any };
}

describe("per-profile budgets ([peers.X.budget.profiles.P])", () => {
  test("a profile's limit refuses that profile only, on top of the peer's own limits", async () => {
    relay = await start();
    const r = relay;
    expect((await send(r, "echo")).body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect((await send(r, "echo")).body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    const third = await send(r, "echo");
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe(-32042);
    expect(third.body.error.data[0].metadata).toMatchObject({
      limit: "profiles.echo.max_turns",
      used: "2",
      max: "2",
    });
    expect(Number(third.retryAfter)).toBeGreaterThan(0); // daily: until the next UTC midnight
    // another profile of the same peer is still open
    expect((await send(r, "other")).body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("per-profile use survives a restart; a bad window is a config error naming the key", async () => {
    relay = await start();
    await send(relay, "echo");
    await send(relay, "echo");
    const dir = relay.dir;
    await relay.relay.stop();
    relay = undefined;
    // a second relay on the same data dir sees the same ledger
    const { loadConfig } = await import("../../src/config/load.ts");
    const { startRelay } = await import("../../src/server.ts");
    const { currentRuntime } = await import("../../src/runtime/index.ts");
    const { createLogger } = await import("../../src/logger.ts");
    const { join } = await import("node:path");
    const config = loadConfig({
      file: join(dir, "config.toml"),
      env: { BOT_TOKEN: TOKEN, A2A_RELAY_HOME: join(dir, "data"), A2A_RELAY_LOCK_DIR: join(dir, "locks") },
      port: "0",
      prepare: true,
    });
    const again = await startRelay(config, currentRuntime(), createLogger("silent"));
    try {
      const res = await fetch(`${again.url}/a2a/echo`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "a2a-version": "1.0",
          authorization: `Bearer ${TOKEN}`,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "SendMessage",
          params: { message: { messageId: "after-restart", role: "ROLE_USER", parts: [{ text: "x" }] } },
        }),
      });
      expect(res.status).toBe(429);
    } finally {
      await again.stop();
    }
    await expect(start(`[peers.bot.budget.profiles.other]\nwindow = "fortnight"`)).rejects.toThrow(
      /peers\.bot\.budget\.profiles\.other\.window/,
    );
  });
});
