import { resolve } from "node:path";
import { z } from "zod";

/**
 * Mastra agents served over A2A the way a Mastra server serves them: `@mastra/core` agents with
 * memory, mounted on a Hono app by `@mastra/hono` (its A2A routes are `@mastra/server`'s
 * handlers), all installed by test/clis/install.sh. Each agent runs on a model at an
 * OpenAI-compatible URL (the suite's fake model). Routes: `POST {base}/a2a/{agentId}` and the card
 * at `{base}/.well-known/{agentId}/agent-card.json`, under Mastra's default `/api` prefix.
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/node_modules");

export interface MastraAgents {
  /** `http://127.0.0.1:PORT/api` */
  base: string;
  /** The server's A2A task store: what Mastra itself recorded of each task. */
  // biome-ignore lint/suspicious/noExplicitAny: Mastra is loaded from the CLI cache, untyped here
  tasks: any;
  stop(): void;
}

/** One agent per entry of `models` (agent id → the model's root URL). */
export async function startMastraAgents(models: Record<string, string>): Promise<MastraAgents> {
  const { Mastra } = await import(`${CACHE}/@mastra/core/dist/mastra/index.js`);
  const { Agent } = await import(`${CACHE}/@mastra/core/dist/agent/index.js`);
  const { createTool } = await import(`${CACHE}/@mastra/core/dist/tools/index.js`);
  const { InMemoryStore } = await import(`${CACHE}/@mastra/core/dist/storage/index.js`);
  const { Memory } = await import(`${CACHE}/@mastra/memory/dist/index.js`);
  const { MastraServer } = await import(`${CACHE}/@mastra/hono/dist/index.js`);
  const { InMemoryTaskStore } = await import(`${CACHE}/@mastra/server/dist/server/a2a/store.js`);
  const { Hono } = await import(`${CACHE}/hono/dist/index.js`);
  // a tool the fake model never calls: Mastra lists an agent's tools as its card's skills
  const lookup = createTool({
    id: "lookup_station",
    description: "Look up a weather station by name",
    inputSchema: z.object({ name: z.string() }),
    execute: async () => ({ station: "none" }),
  });
  const agents = Object.fromEntries(
    Object.entries(models).map(([id, url]) => [
      id,
      new Agent({
        id,
        name: id,
        instructions: "answer briefly",
        model: { providerId: "fake", modelId: "fake-model", url: `${url}/v1`, apiKey: "sk-fake" },
        tools: { lookup_station: lookup },
        memory: new Memory({ storage: new InMemoryStore() }),
      }),
    ]),
  );
  const mastra = new Mastra({ agents, storage: new InMemoryStore(), logger: false });
  const app = new Hono();
  const tasks = new InMemoryTaskStore();
  await new MastraServer({ app, mastra, taskStore: tasks }).init();
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch, idleTimeout: 0 });
  return { base: `http://127.0.0.1:${server.port}/api`, tasks, stop: () => server.stop(true) };
}
