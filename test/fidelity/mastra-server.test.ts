import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cli } from "../cli/_run.ts";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * What Mastra's A2A server (`@mastra/server` 1.67.0 through `@mastra/hono` 1.7.9) sends, replayed
 * without the package (test/clis/mastra-server.clitest.ts runs the real one). It serves an agent's
 * card at `{prefix}/.well-known/{agentId}/agent-card.json`, not at its origin, and the card is
 * v0.3 only (`protocolVersion` "0.3.0"); with `A2A-Version: 1.0` it wants the v0.3 method names
 * and answers `SendStreamingMessage` with HTTP 400. Its stream: the task (WORKING), the text as
 * artifact chunks (the first without `append`, the rest `append: true`), a final status update.
 */

const TASK = "dbb23145-c8ed-403d-b5ed-16b11998da1a";
const CTX = "dc7ab674-cac9-4195-ab49-7ce0e610e7ec";
let mastra: ReturnType<typeof Bun.serve>;
let base: string;
let r: TestRelay;

const card = () => ({
  name: "helper",
  description: "answer briefly",
  url: `${base}/a2a/helper`,
  provider: { organization: "Mastra", url: "https://mastra.ai" },
  version: "1.0",
  protocolVersion: "0.3.0",
  additionalInterfaces: [],
  supportsAuthenticatedExtendedCard: false,
  security: [],
  securitySchemes: {},
  capabilities: { streaming: true, pushNotifications: true, stateTransitionHistory: false, extensions: [] },
  defaultInputModes: ["text/plain"],
  defaultOutputModes: ["text/plain"],
  skills: [
    {
      id: "lookup_station",
      name: "lookup_station",
      description: "Look up a weather station",
      tags: ["tool"],
    },
  ],
});

function stream(id: unknown): string {
  const chunk = (text: string, more: object) => ({
    kind: "artifact-update",
    taskId: TASK,
    contextId: CTX,
    ...more,
    artifact: { artifactId: `${TASK}:response:text`, name: "response.txt", parts: [{ kind: "text", text }] },
  });
  const results = [
    {
      id: TASK,
      contextId: CTX,
      status: {
        state: "working",
        message: {
          messageId: "f984",
          kind: "message",
          role: "agent",
          parts: [{ kind: "text", text: "Generating response..." }],
        },
      },
      artifacts: [],
      history: [],
      metadata: { resourceId: "helper" },
      kind: "task",
    },
    chunk("created ", { lastChunk: false }),
    chunk("notes.txt", { append: true, lastChunk: true }),
    { kind: "status-update", taskId: TASK, contextId: CTX, status: { state: "completed" }, final: true },
  ];
  return results.map((result) => `data: ${JSON.stringify({ jsonrpc: "2.0", id, result })}\n\n`).join("");
}

beforeAll(async () => {
  mastra = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/api/.well-known/helper/agent-card.json") return Response.json(card());
      if (path !== "/api/a2a/helper" || req.method !== "POST")
        return Response.json({ error: "Not Found" }, { status: 404 });
      const body = (await req.json()) as { id: unknown; method: string };
      if (body.method !== "message/stream") {
        const issues = [{ field: "method", message: "Invalid input" }];
        return Response.json({ error: "Invalid request body", issues }, { status: 400 });
      }
      return new Response(stream(body.id), {
        headers: { "content-type": "text/event-stream; charset=utf-8" },
      });
    },
  });
  base = `http://127.0.0.1:${mastra.port}/api`;
  const cardUrl = `${base}/.well-known/helper/agent-card.json`;
  r = await startAgentRelay({
    mastra: { url: `${base}/a2a/helper`, protocol: "0.3", cardUrl },
    "mastra-v1": { url: `${base}/a2a/helper`, cardUrl },
    nocard: { url: `${base}/a2a/helper`, protocol: "0.3" },
  });
});
afterAll(async () => {
  await r.stop();
  mastra.stop(true);
});

describe("a Mastra agent behind an a2a profile", () => {
  test("its chunked text arrives whole; its card, read at card_url, gives the profile its skills", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/mastra/`, r.token);
    const t = resultJson(await c.sendMessage(sdkSend("hi"))).task;
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.status.message.parts.map((p: { text: string }) => p.text).join("")).toBe("created notes.txt");
    const res = await fetch(`${r.url}/a2a/mastra/.well-known/agent-card.json`);
    const profileCard = (await res.json()) as { skills: { id: string }[] };
    expect(profileCard.skills.map((s) => s.id)).toEqual(["lookup_station"]);
  });

  test("behind a profile at protocol 1.0, the turn fails saying to set protocol = 0.3", async () => {
    const { body } = await r.rpc(
      "SendMessage",
      { message: { messageId: "m-v1", role: "ROLE_USER", parts: [{ text: "hi" }] } },
      { path: "/a2a/mastra-v1" },
    );
    const status = body.result.task.status;
    expect(status.state).toBe("TASK_STATE_FAILED");
    expect(status.message.parts[0].text).toBe(
      `upstream unavailable: HTTP 400 (Invalid request body); its card (${base}/.well-known/helper/agent-card.json) offers A2A 0.3.0 only and this profile speaks 1.0: set protocol = "0.3" on profiles.mastra-v1`,
    );
  });

  test("doctor reads the card at card_url, warns about the 1.0 profile, and names card_url when the origin has none", async () => {
    const env = { A2A_OC_TOKEN_LOCAL: r.token, A2A_RELAY_LOCK_DIR: join(r.dir, "locks"), PATH: "" };
    const d = await cli(["doctor", "--config", join(r.dir, "config.toml")], env);
    const at = `${base}/.well-known/helper/agent-card.json`;
    expect(d.out).toContain(`ok    profile mastra: upstream card ${at} (helper)`);
    expect(d.out).not.toMatch(/^warn {2}profile mastra:/m);
    expect(d.out).toMatch(
      /^warn {2}profile mastra-v1: the upstream's card offers A2A 0.3.0 only; this profile speaks 1.0$/m,
    );
    expect(d.out).toContain('set protocol = "0.3" on profiles.mastra-v1');
    const origin = new URL(base).origin;
    expect(d.out).toContain(
      `fail  profile nocard: upstream card ${origin}/.well-known/agent-card.json unreachable (HTTP 404)`,
    );
    expect(d.out).toContain("needs card_url");
    expect(d.code).toBe(2);
  });
});
