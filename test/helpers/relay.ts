import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { type RunningRelay, startRelay } from "../../src/server.ts";

export interface TestRelay {
  relay: RunningRelay;
  config: Config;
  url: string;
  dir: string;
  /** The local peer's bearer token. */
  token: string;
  /** POST a JSON-RPC call; v1.0 unless headers say otherwise. */
  rpc(
    method: string,
    params: unknown,
    opts?: { path?: string; headers?: Record<string, string>; id?: unknown },
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON-RPC answers
  ): Promise<{ status: number; body: any }>;
  /** Stop, keeping the data dir (restart tests start again on `dir`). */
  halt(): Promise<void>;
  /** Stop and delete the data dir. */
  stop(): Promise<void>;
}

/**
 * Start a relay in this process on a loopback port (`port`, default a random one) with a fresh
 * data dir (or `dir`, to restart on one). `env` is its environment, for config and for outbound
 * credentials.
 */
export async function startTestRelay(
  opts: {
    toml?: string;
    env?: Record<string, string>;
    port?: number;
    dir?: string;
    keepaliveMs?: number;
    fleetQuietMs?: number;
    /** `serve --insecure-no-auth`: a request without a credential acts as peer "anonymous". */
    insecureNoAuth?: boolean;
  } = {},
): Promise<TestRelay> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "a2a-relay-test-"));
  let file: string | undefined;
  if (opts.toml) {
    file = join(dir, "config.toml");
    writeFileSync(file, opts.toml);
  }
  const env = { ...opts.env, A2A_RELAY_HOME: join(dir, "data"), A2A_RELAY_LOCK_DIR: join(dir, "locks") };
  const config = loadConfig({
    file,
    env,
    port: String(opts.port ?? 0),
    prepare: true,
    ...(opts.insecureNoAuth ? { insecureNoAuth: true } : {}),
  });
  const relay = await startRelay(config, currentRuntime(), createLogger("silent"), {
    env,
    ...(opts.keepaliveMs ? { keepaliveMs: opts.keepaliveMs } : {}),
    ...(opts.fleetQuietMs ? { fleetQuietMs: opts.fleetQuietMs } : {}),
  });
  // a config of its own may give peer `local` its token through the environment
  const token =
    opts.env?.A2A_OC_TOKEN_LOCAL ?? readFileSync(join(dir, "data", "tokens", "local.token"), "utf8").trim();
  const url = relay.url;
  return {
    relay,
    config,
    url,
    dir,
    token,
    async rpc(method, params, o = {}) {
      const res = await fetch(`${url}${o.path ?? "/a2a/echo"}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "a2a-version": "1.0",
          authorization: `Bearer ${token}`,
          ...o.headers,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: o.id ?? 1, method, params }),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (SSE)
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

export { userMessage } from "./messages.ts";
