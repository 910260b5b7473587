import { expect } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { generateRelayKeyPem, relayKeyPath, relayPublicKeyPath } from "../../src/auth/keys.ts";
import { type Config, loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { type RunningRelay, startRelay } from "../../src/server.ts";

/** A relay for the auth suite: files placed before start, logs captured at debug level. */
export interface AuthRelay {
  relay: RunningRelay;
  config: Config;
  url: string;
  dir: string;
  dataDir: string;
  /** The generated `local` peer's token (admin). */
  localToken: string;
  log(): string;
  stop(): Promise<void>;
}

export interface AuthRelayOptions {
  toml: string;
  env?: Record<string, string>;
  /** Files to create under the relay's temp dir before start (path relative to it). */
  files?: Record<string, { content: string; mode?: number }>;
  /** Write this relay's signing key into the data dir first. */
  keygen?: boolean;
}

export async function startAuthRelay(opts: AuthRelayOptions): Promise<AuthRelay> {
  const dir = mkdtempSync(join(tmpdir(), "a2a-relay-auth-"));
  const dataDir = join(dir, "data");
  for (const [rel, f] of Object.entries(opts.files ?? {})) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    chmodSync(path, f.mode ?? 0o600);
  }
  if (opts.keygen) {
    const { privatePem, publicPem } = generateRelayKeyPem();
    mkdirSync(join(dataDir, "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(relayKeyPath(dataDir), privatePem, { mode: 0o600 });
    writeFileSync(relayPublicKeyPath(dataDir), publicPem);
  }
  const file = join(dir, "config.toml");
  writeFileSync(file, opts.toml);
  const config = loadConfig({
    file,
    env: { ...opts.env, A2A_RELAY_HOME: dataDir, A2A_RELAY_LOCK_DIR: join(dir, "locks") },
    port: "0",
    prepare: true,
  });
  const logFile = join(dir, "relay.log");
  const logger = createLogger("debug", logFile);
  const relay = await startRelay(config, currentRuntime(), logger);
  const localToken = readFileSync(join(dataDir, "tokens", "local.token"), "utf8").trim();
  return {
    relay,
    config,
    url: relay.url,
    dir,
    dataDir,
    localToken,
    log: () => {
      logger.flush(); // lines are written in batches: read all of them
      return readFileSync(logFile, "utf8");
    },
    async stop() {
      await relay.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST one JSON-RPC call (v1.0) with the given Authorization header (omitted when undefined). */
export async function rpcWith(
  url: string,
  authorization: string | undefined,
  method: string,
  params: unknown,
  path = "/a2a/echo",
): Promise<{ status: number; headers: Headers; text: string; body: RpcBody }> {
  const headers: Record<string, string> = { "content-type": "application/json", "a2a-version": "1.0" };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const text = await res.text();
  let body: RpcBody = {};
  try {
    body = JSON.parse(text) as RpcBody;
  } catch {
    // SSE or plain text
  }
  return { status: res.status, headers: res.headers, text, body };
}

/**
 * A JSON-RPC call that was answered with a result, not an error (a JSON-RPC error is HTTP 200
 * too): with `state`, its task ended in that state.
 */
export function expectResult(res: { status: number; body: RpcBody }, state?: string): void {
  expect(res.status).toBe(200);
  expect(res.body.error).toBeUndefined();
  expect(res.body.result).toBeDefined();
  if (state) expect(res.body.result?.task?.status.state).toBe(state);
}

export interface RpcBody {
  result?: { task?: { id: string; status: { state: string } } } & Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

export function message(text: string) {
  return { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] };
}

/** Throws naming the first secret found in the text (the secret itself is not printed). */
export function expectNoSecrets(text: string, secrets: Iterable<string>): void {
  let i = 0;
  for (const s of secrets) {
    i++;
    if (s.length >= 8 && text.includes(s))
      throw new Error(`secret #${i} (length ${s.length}) appears in the log`);
  }
}

/** Run the CLI in-process; returns the exit code and what it printed. */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import("../../src/cli/index.ts");
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env,
    stopSignal: new Promise<string>(() => {}),
  });
  return { code, out, err };
}
