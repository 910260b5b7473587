import { createServer } from "node:net";
import { resolve } from "node:path";

/**
 * VoltAgent agents served over A2A the way VoltAgent serves them: `@voltagent/core` agents, each
 * in an `A2AServer` (`@voltagent/a2a-server`) of the same name, on VoltAgent's Hono server
 * (`@voltagent/server-hono`), all installed by test/clis/install.sh. Routes: `POST /a2a/{agent}`,
 * the card at `/.well-known/{agent}/agent-card.json`. A process of its own: VoltAgent's server
 * (`@hono/node-server` 1.x) replaces the global `Response`, which breaks a relay in the same
 * process. Run as `bun voltagent-agent.ts '{"agent": "<model root URL>", …}'`: each agent on an
 * OpenAI-compatible model (the suite's fake); prints `{"url": …}` once it serves.
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/node_modules");

export interface VoltAgents {
  /** `http://127.0.0.1:PORT` */
  url: string;
  stop(): void;
}

/** Start the agents (agent name → model root URL) in a child process. */
export async function startVoltAgents(models: Record<string, string>): Promise<VoltAgents> {
  const proc = Bun.spawn([process.execPath, import.meta.path, JSON.stringify(models)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 60_000;
  while (!text.includes('{"url"')) {
    if (Date.now() > deadline) throw new Error(`VoltAgent did not start within 60 s: ${text.slice(-500)}`);
    const { done, value } = await reader.read();
    if (done) throw new Error(`VoltAgent exited before serving: ${text.slice(-500)}`);
    text += new TextDecoder().decode(value);
  }
  // the rest of its output (a banner, logs) is drained and dropped
  void (async () => {
    while (!(await reader.read()).done) {}
  })().catch(() => {});
  const { url } = JSON.parse(text.slice(text.indexOf('{"url"')).split("\n")[0]!) as { url: string };
  // SIGKILL: VoltAgent's own SIGTERM handler shuts down gracefully, and not always soon
  return { url, stop: () => proc.kill(9) };
}

// internal

async function serve(models: Record<string, string>) {
  // outside production, VoltAgent's core fetches a model registry from the internet at import
  process.env.NODE_ENV = "production";
  const { Agent, VoltAgent } = await import(`${CACHE}/@voltagent/core/dist/index.mjs`);
  const { A2AServer } = await import(`${CACHE}/@voltagent/a2a-server/dist/index.mjs`);
  const { honoServer } = await import(`${CACHE}/@voltagent/server-hono/dist/index.mjs`);
  const { createOpenAICompatible } = await import(`${CACHE}/@ai-sdk/openai-compatible/dist/index.mjs`);
  const agents: Record<string, unknown> = {};
  const a2aServers: Record<string, unknown> = {};
  for (const [name, url] of Object.entries(models)) {
    const provider = createOpenAICompatible({ name: "fake", baseURL: `${url}/v1`, apiKey: "sk-fake" });
    agents[name] = new Agent({ name, instructions: "answer briefly", model: provider("fake-model") });
    a2aServers[name] = new A2AServer({ name, version: "0.1.0" });
  }
  const port = await freePort();
  new VoltAgent({
    agents,
    a2aServers,
    server: honoServer({ port, hostname: "127.0.0.1" }),
    checkDependencies: false,
  });
  const url = `http://127.0.0.1:${port}`;
  const first = Object.keys(models)[0];
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/.well-known/${first}/agent-card.json`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await Bun.sleep(100);
  }
  process.stdout.write(`${JSON.stringify({ url })}\n`);
}

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

if (import.meta.main) await serve(JSON.parse(process.argv[2] ?? "{}"));
