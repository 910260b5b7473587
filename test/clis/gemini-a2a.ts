import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { currentRuntime } from "../../src/runtime/index.ts";

/**
 * Google's Gemini CLI A2A server (`@google/gemini-cli-a2a-server`, installed by install.sh) as a
 * process: its bundled entry on Node, a temp HOME with a git identity (file edits need one), a temp
 * workspace, the suite's fake model as its Gemini API, and a preload that keeps it on 127.0.0.1
 * (it binds every interface, with no authentication, otherwise).
 */

export const A2A_SERVER = resolve(
  import.meta.dir,
  "../../.cache/clis/node_modules/@google/gemini-cli-a2a-server/dist/a2a-server.mjs",
);

export interface GeminiA2a {
  /** Its JSON-RPC endpoint (the root URL). */
  url: string;
  workspace: string;
  /** Everything it printed (its log names cancels, aborts and executions). */
  log(): string;
  stop(): Promise<void>;
}

export async function startGeminiA2a(o: { modelUrl: string; yolo: boolean }): Promise<GeminiA2a> {
  const root = mkdtempSync(join(tmpdir(), "a2a-gemini-server-"));
  const home = join(root, "home");
  const workspace = join(root, "workspace");
  const tmp = join(root, "tmp");
  for (const d of [home, workspace, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(
    join(home, ".gitconfig"),
    "[user]\n\tname = a2a-relay test\n\temail = test@a2a-relay.invalid\n",
  );
  const port = freePort();
  const proc = Bun.spawn(["node", "--import", join(import.meta.dir, "bind-loopback.mjs"), A2A_SERVER], {
    cwd: workspace,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      TMPDIR: tmp,
      USER: "a2a",
      TERM: "dumb",
      NO_COLOR: "1",
      CODER_AGENT_PORT: String(port),
      CODER_AGENT_WORKSPACE_PATH: workspace,
      GEMINI_API_KEY: "fake-gemini-key",
      GOOGLE_GEMINI_BASE_URL: o.modelUrl,
      GEMINI_YOLO_MODE: o.yolo ? "true" : "false",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  for (const s of [proc.stdout, proc.stderr]) {
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of s as ReadableStream<Uint8Array>) out += dec.decode(chunk);
    })();
  }
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`the Gemini A2A server exited with ${proc.exitCode}:\n${out.slice(-2000)}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`the Gemini A2A server did not answer within 120 s:\n${out.slice(-2000)}`);
    }
    const ok = await fetch(`${url}/.well-known/agent-card.json`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await Bun.sleep(250);
  }
  return {
    url: `${url}/`,
    workspace,
    log: () => out,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function freePort(): number {
  const l = currentRuntime().serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = l.port;
  void l.stop(true);
  return port;
}
