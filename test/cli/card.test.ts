import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";
import { cli, deadPort } from "./_run.ts";

let r: TestRelay;
/** Hand-made cards served by a tiny server: path → body. */
const served: Record<string, string> = {};
let fake: ReturnType<typeof Bun.serve>;
let fakeUrl: string;

const v03Card = {
  protocolVersion: "0.3.0",
  name: "hermes-b",
  description: "a Hermes profile",
  url: "http://127.0.0.1:9341/jsonrpc",
  version: "2.1.0",
  capabilities: { streaming: false },
  defaultInputModes: ["text/plain"],
  defaultOutputModes: ["text/plain"],
  skills: [{ id: "chat", name: "Chat", description: "talks", tags: ["chat"] }],
  securitySchemes: { token: { type: "http", scheme: "bearer" } },
  security: [{ token: [] }],
};

beforeAll(async () => {
  r = await startTestRelay();
  fake = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => {
      const body = served[new URL(req.url).pathname];
      return body === undefined
        ? new Response("not here", { status: 404 })
        : new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
  fakeUrl = `http://127.0.0.1:${fake.port}`;
  served["/v03/.well-known/agent-card.json"] = JSON.stringify(v03Card);
  const { skills: _drop, ...noSkills } = v03Card;
  served["/bad/.well-known/agent-card.json"] = JSON.stringify({
    name: "broken",
    description: "no skills, a bad interface URL",
    version: "1",
    supportedInterfaces: [{ url: "not a url", protocolBinding: "JSONRPC", protocolVersion: "1.0" }],
    capabilities: {},
    defaultInputModes: [],
    defaultOutputModes: [],
  });
  served["/bad03/card.json"] = JSON.stringify(noSkills);
  served["/neither/card.json"] = JSON.stringify({ hello: "world" });
  served["/notjson/card.json"] = "<html>hi</html>";
});
afterAll(async () => {
  await fake.stop(true);
  await r.stop();
});

describe("a2a-relay card", () => {
  test("the relay's card: v1.0 summary", async () => {
    const res = await cli(["card", r.url], {});
    expect(res.code).toBe(0);
    expect(res.out).toStartWith(`valid A2A v1.0 agent card from ${r.url}/.well-known/agent-card.json\n`);
    expect(res.out).toContain(`    JSONRPC 1.0  ${r.url}/a2a\n`);
    expect(res.out).toContain("    echo: ");
    expect(res.out).toContain("security:    bearer (httpAuth Bearer)");
  });

  test("a profile's card by base URL with a trailing slash", async () => {
    const res = await cli(["card", `${r.url}/a2a/echo/`], {});
    expect(res.code).toBe(0);
    expect(res.out).toContain(`JSONRPC 1.0  ${r.url}/a2a/echo\n`);
  });

  test("the relay's v0.3 card (no A2A-Version header sent)", async () => {
    const res = await cli(["card", r.url, "--protocol", "0.3"], {});
    expect(res.code).toBe(0);
    expect(res.out).toStartWith("valid A2A v0.3 agent card");
    expect(res.out).toContain(`JSONRPC 0.3.0  ${r.url}/a2a`);
    expect(res.out).toContain("bearer (http bearer)");
  });

  test("a hand-made v0.3 card; --json prints the card as fetched; a .json URL is used as is", async () => {
    const res = await cli(["card", `${fakeUrl}/v03`], {});
    expect(res.code).toBe(0);
    expect(res.out).toContain("valid A2A v0.3 agent card");
    expect(res.out).toContain("name:        hermes-b");
    expect(res.out).toContain("streaming:   no");
    expect(res.out).toContain("chat (Chat): talks");
    const json = await cli(["card", `${r.url}/.well-known/agent-card.json`, "--json"], {});
    expect(JSON.parse(json.out).supportedInterfaces[0].url).toBe(`${r.url}/a2a`);
  });

  test("exit 1 for an invalid card, naming what is wrong", async () => {
    const bad = await cli(["card", `${fakeUrl}/bad`], {});
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("INVALID_AGENT_CARD");
    expect(bad.err).toContain("v1.0 skills: missing");
    expect(bad.err).toContain("v1.0 supportedInterfaces.0.url");
    const bad03 = await cli(["card", `${fakeUrl}/bad03/card.json`], {});
    expect(bad03.code).toBe(1);
    expect(bad03.err).toContain("v0.3 skills: missing");
    const neither = await cli(["card", `${fakeUrl}/neither/card.json`], {});
    expect(neither.code).toBe(1);
    expect(neither.err).toContain("nor is it a v0.3 card");
    const notJson = await cli(["card", `${fakeUrl}/notjson/card.json`], {});
    expect(notJson.code).toBe(1);
    expect(notJson.err).toContain("not JSON");
    const missing = await cli(["card", `${fakeUrl}/nothing`], {});
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("HTTP 404");
  });

  test("exit 6 when unreachable; exit 2 for a bad URL or option", async () => {
    const port = await deadPort();
    const res = await cli(["card", `http://127.0.0.1:${port}`], {});
    expect(res.code).toBe(6);
    expect(res.err).toContain("connection refused");
    for (const argv of [
      ["card", "a", "b"],
      ["card", "not a url"],
      ["card", "ftp://x/"],
      ["card", r.url, "--protocol", "2"],
    ]) {
      expect({ argv, code: (await cli(argv, {})).code }).toEqual({ argv, code: 2 });
    }
  });
});
