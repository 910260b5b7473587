import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");

export interface Served {
  dir: string;
  dataDir: string;
  lockDir: string;
  url: string;
  /** The environment the relay runs in (HOME empty, its own lock dir): give it to the CLI too. */
  env: Record<string, string>;
  /** What the relay wrote on stdout (its JSON log lines) and stderr (the banner) so far. */
  stdout(): string;
  stderr(): string;
  /** The relay process (to signal it and read its exit code). */
  proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<void>;
}

/** `bun src/main.ts serve ARGS` as a process on a fresh data dir and lock dir, once it listens. */
export async function serveProcess(
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), "a2a-relay-cli-"));
  const dataDir = join(dir, "data");
  const lockDir = join(dir, "locks");
  const env = {
    HOME: join(dir, "home"),
    A2A_RELAY_LOCK_DIR: lockDir,
    PATH: process.env.PATH ?? "",
    ...extraEnv,
  };
  const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--data-dir", dataDir, ...args], {
    cwd: ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const text = { out: "", err: "" };
  const pump = async (s: ReadableStream<Uint8Array>, k: "out" | "err") => {
    const dec = new TextDecoder();
    for await (const chunk of s) text[k] += dec.decode(chunk, { stream: true });
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>, "out");
  void pump(proc.stderr as ReadableStream<Uint8Array>, "err");
  const deadline = Date.now() + 15_000;
  let m: RegExpExecArray | null = null;
  while (!m && Date.now() < deadline && proc.exitCode === null) {
    await Bun.sleep(25);
    m = /listening on (\S+)/.exec(text.err);
  }
  if (!m) {
    proc.kill("SIGKILL");
    throw new Error(`relay did not start:\n${text.out}\n${text.err}`);
  }
  return {
    dir,
    dataDir,
    lockDir,
    url: m[1]!,
    env,
    stdout: () => text.out,
    stderr: () => text.err,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(10_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Run `bun src/main.ts ARGV` to its end. */
export async function runCli(argv: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "src/main.ts", ...argv], {
    cwd: ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}
