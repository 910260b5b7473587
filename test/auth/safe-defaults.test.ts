import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { startRelay } from "../../src/server.ts";
import { expectNoSecrets, expectResult, message, rpcWith, startAuthRelay } from "./_relay.ts";

describe("safe defaults", () => {
  test("a non-loopback bind with no configured peer is refused (names --insecure-no-auth)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-relay-bind-"));
    try {
      for (const host of ["0.0.0.0", "192.0.2.10", "::"]) {
        const config = loadConfig({ env: { A2A_RELAY_HOME: dir }, host, port: "0" });
        const err = await startRelay(config, currentRuntime(), createLogger("silent")).catch((e) => e);
        expect(err).toBeInstanceOf(ConfigError);
        expect(err.message).toContain("--insecure-no-auth");
        expect(err.message).toContain(host);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("after N failures of one credential: 429 + Retry-After for it; a good token is still answered; public paths stay open", async () => {
    const r = await startAuthRelay({
      toml: `[server]\nid = "limited"\nauth_max_failures = 3\nauth_block_s = 120\n[profiles.echo]\nhandler = "echo"\n`,
    });
    try {
      const good = `Bearer ${r.localToken}`;
      expectResult(
        await rpcWith(r.url, good, "SendMessage", { message: message("ok") }),
        "TASK_STATE_COMPLETED",
      );
      for (let i = 0; i < 3; i++) {
        expect((await rpcWith(r.url, "Bearer wrong-0123456789", "GetTask", { id: "x" })).status).toBe(401);
      }
      const blocked = await rpcWith(r.url, "Bearer wrong-0123456789", "GetTask", { id: "x" });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(100);
      expect(blocked.body.error?.code).toBe(-32051);
      // 5 × auth_max_failures distinct bad credentials: the address's bad ones get 429 too
      for (let i = 1; i < 15; i++)
        await rpcWith(r.url, `Bearer wrong-${i}-0123456789`, "GetTask", { id: "x" });
      expect((await rpcWith(r.url, "Bearer wrong-new-0123456789", "GetTask", { id: "x" })).status).toBe(429);
      const fine = await rpcWith(r.url, good, "SendMessage", { message: message("still answered") });
      expectResult(fine, "TASK_STATE_COMPLETED");
      const admin = await fetch(`${r.url}/admin/peers`, { headers: { authorization: good } });
      expect(admin.status).toBe(200);
      expect((await fetch(`${r.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${r.url}/.well-known/agent-card.json`)).status).toBe(200);
      expectNoSecrets(r.log(), [r.localToken]);
    } finally {
      await r.stop();
    }
  });
});
