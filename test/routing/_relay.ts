import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { type RunningRelay, startRelay } from "../../src/server.ts";
import type { Json } from "./_sdk.ts";

/**
 * A relay in this process for routing tests: like test/helpers/relay.ts, plus an environment for
 * outbound credentials, a fixed port (for relay loops) and restarts on the same data dir.
 */
export interface RoutingRelay {
  relay: RunningRelay;
  url: string;
  dir: string;
  token: string;
  rpc(
    method: string,
    params: unknown,
    o?: { path?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json }>;
  /** Stop, keeping the data dir. */
  halt(): Promise<void>;
  /** Stop and delete the data dir. */
  stop(): Promise<void>;
}

export async function startRoutingRelay(o: {
  toml: string;
  env?: Record<string, string>;
  port?: number;
  dir?: string;
}): Promise<RoutingRelay> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "a2a-relay-routing-"));
  const file = join(dir, "config.toml");
  writeFileSync(file, o.toml);
  const env = { ...o.env, A2A_RELAY_HOME: join(dir, "data"), A2A_RELAY_LOCK_DIR: join(dir, "locks") };
  const config = loadConfig({ file, env, port: String(o.port ?? 0), prepare: true });
  const relay = await startRelay(config, currentRuntime(), createLogger("silent"), { env });
  const token = readFileSync(join(dir, "data", "tokens", "local.token"), "utf8").trim();
  const url = relay.url;
  return {
    relay,
    url,
    dir,
    token,
    async rpc(method, params, r = {}) {
      const res = await fetch(`${url}${r.path ?? "/a2a/echo"}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "a2a-version": "1.0",
          authorization: `Bearer ${token}`,
          ...r.headers,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // SSE
      }
      return { status: res.status, body };
    },
    halt: () => relay.stop(),
    async stop() {
      await relay.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port that was free a moment ago (for configs that must name a relay before it starts). */
export function freePort(): number {
  const l = currentRuntime().serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = l.port;
  void l.stop(true);
  return port;
}

export function v1Message(text: string, extra: Record<string, unknown> = {}) {
  return { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], ...extra };
}

export function v03Message(text: string, extra: Record<string, unknown> = {}) {
  return {
    kind: "message",
    messageId: crypto.randomUUID(),
    role: "user",
    parts: [{ kind: "text", text }],
    ...extra,
  };
}

/** Parse an SSE body into its `data:` JSON payloads. */
export function sseData(text: string): Json[] {
  return text
    .split("\n\n")
    .map((b) =>
      b
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n"),
    )
    .filter(Boolean)
    .map((d) => JSON.parse(d));
}
