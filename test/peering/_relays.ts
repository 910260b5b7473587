import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TranscriptLine } from "../../src/transcripts/line.ts";

/**
 * Relay *processes* for the peering tests: `a2a-relay serve --port auto --band hermes --name N`
 * from source (or `A2A_RELAY_BIN`), optionally inside a network namespace (`ip netns exec NS`).
 * Every wait is bounded; `stop` and `kill` are safe to call twice.
 */

export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");
const MAIN = join(ROOT, "src", "main.ts");
export const RELAY = process.env.A2A_RELAY_BIN ? [resolve(ROOT, process.env.A2A_RELAY_BIN)] : [BUN, MAIN];

export interface RelayProc {
  name: string;
  dataDir: string;
  url: string;
  port: number;
  /** The `local` peer's token (admin). */
  localToken(): string;
  output(): string;
  stop(): Promise<number>;
  kill(): Promise<void>;
}

export interface StartRelay {
  /** Lease name (`--name`). */
  name: string;
  /** A directory of its own: config.toml and data/ go there. */
  dir: string;
  toml: string;
  env: Record<string, string>;
  lockDir: string;
  host?: string;
  /** Run it as `ip netns exec NETNS …`. */
  netns?: string;
  timeoutMs?: number;
}

export async function startRelayProc(o: StartRelay): Promise<RelayProc> {
  mkdirSync(o.dir, { recursive: true });
  const config = join(o.dir, "config.toml");
  writeFileSync(config, o.toml);
  const dataDir = join(o.dir, "data");
  const args = ["serve", "--config", config, "--data-dir", dataDir];
  args.push("--port", "auto", "--band", "hermes", "--name", o.name);
  if (o.host) args.push("--host", o.host);
  const cmd = [...(o.netns ? ["ip", "netns", "exec", o.netns] : []), ...RELAY, ...args];
  const proc = Bun.spawn(cmd, {
    cwd: o.dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: o.dir,
      A2A_RELAY_LOCK_DIR: o.lockDir,
      ...o.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk, { stream: true });
  };
  const drained = Promise.all([
    collect(proc.stdout as ReadableStream<Uint8Array>),
    collect(proc.stderr as ReadableStream<Uint8Array>),
  ]);
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let m: RegExpExecArray | null = null;
  while (!m && Date.now() < deadline && proc.exitCode === null) {
    await Bun.sleep(25);
    m = /listening on (https?:\/\/[^\s:]+:(\d+))/.exec(out);
  }
  if (!m) {
    proc.kill("SIGKILL");
    await Promise.race([drained, Bun.sleep(1000)]);
    throw new Error(`relay ${o.name} did not start (exit ${proc.exitCode}):\n${out}`);
  }
  const kill = async () => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await Promise.race([proc.exited, Bun.sleep(5000)]);
  };
  return {
    name: o.name,
    dataDir,
    url: m[1]!,
    port: Number(m[2]),
    localToken: () => readFileSync(join(dataDir, "tokens", "local.token"), "utf8").trim(),
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => undefined)]);
      if (code === undefined) {
        await kill();
        throw new Error(`relay ${o.name} did not exit within 15 s of SIGTERM`);
      }
      return code;
    },
    kill,
  };
}

/** The transcript lines of `profile` with `peer` in a data dir (empty when there is none yet). */
export function transcript(dataDir: string, profile: string, peer: string): TranscriptLine[] {
  let text: string;
  try {
    text = readFileSync(join(dataDir, "transcripts", profile, `${peer}.jsonl`), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TranscriptLine);
}

/** A JSON-RPC call in A2A v1.0 with a bearer token, bounded. */
export async function rpc(url: string, token: string, method: string, params: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(20_000),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test inspection of arbitrary JSON
  return { status: res.status, body: (await res.json()) as any };
}
