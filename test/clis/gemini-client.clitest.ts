import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { type FakeModel, startFakeModel } from "../helpers/fake-model.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { BIN } from "./harness.ts";

/**
 * Google's Gemini CLI (@google/gemini-cli 0.61.0) as an A2A *client* of the relay: a remote agent
 * in its `~/.gemini/agents/` (`kind: remote`, `agent_card_url` = a relay profile's card, a Bearer
 * token), called through its `invoke_agent` tool when the suite's fake model asks for it. The CLI
 * reads the profile's card, streams the message with its own SDK client and hands the answer back
 * to the model. Against the echo profile, and through an `a2a` profile to the official SDK agent:
 * a question the agent answers with input-required, then the answer on the same task.
 */

let model: FakeModel;
let agent: SdkAgent;
let r: TestRelay;
beforeAll(async () => {
  model = await startFakeModel("ok");
  agent = await startSdkAgent();
  r = await startAgentRelay({ sdk: { url: agent.rpcUrl } });
});
afterAll(async () => {
  await r?.stop();
  await agent?.stop();
  await model?.close();
});

/** Run `gemini -p PROMPT` with one remote agent `name` pointing at relay profile `profile`. */
async function gemini(
  prompt: string,
  name: string,
  profile: string,
  token: string,
): Promise<{ code: number | null; out: string; err: string }> {
  const home = mkdtempSync(join(tmpdir(), "a2a-gemini-client-"));
  mkdirSync(join(home, ".gemini", "agents"), { recursive: true });
  writeFileSync(
    join(home, ".gemini", "settings.json"),
    JSON.stringify({
      security: { auth: { selectedType: "gemini-api-key" } },
      general: { disableAutoUpdate: true, disableUpdateNag: true },
      telemetry: { enabled: false },
      privacy: { usageStatisticsEnabled: false },
    }),
  );
  writeFileSync(
    join(home, ".gemini", "agents", `${name}.md`),
    [
      "---",
      "kind: remote",
      `name: ${name}`,
      `description: the relay's ${profile} profile`,
      `agent_card_url: ${r.url}/a2a/${profile}/.well-known/agent-card.json`,
      "auth:",
      "  type: http",
      "  scheme: Bearer",
      `  token: ${token}`,
      "---",
      "",
    ].join("\n"),
  );
  const child = spawn(join(BIN, "gemini"), ["-p", prompt, "--approval-mode", "yolo", "-o", "json"], {
    cwd: home,
    env: {
      ...process.env,
      HOME: home,
      GEMINI_CLI_HOME: home,
      GEMINI_API_KEY: "fake-key",
      GOOGLE_GEMINI_BASE_URL: model.url,
      GEMINI_CLI_TRUST_WORKSPACE: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const kill = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const code = await new Promise<number | null>((res) => child.once("exit", res));
  clearTimeout(kill);
  return { code, out, err };
}

const response = (out: string): string => JSON.parse(out.slice(out.indexOf("{"))).response;

describe("the Gemini CLI as an A2A client of the relay", () => {
  test("its remote agent on the echo profile: the answer reaches the model, the task is the relay's", async () => {
    const g = await gemini("ASK-REMOTE relay-echo: hello from the gemini cli", "relay-echo", "echo", r.token);
    expect(g.code).toBe(0);
    expect(response(g.out)).toContain("remote answered:");
    expect(response(g.out)).toContain("hello from the gemini cli");
    const { body } = await r.rpc("ListTasks", { historyLength: 1 }, { path: "/a2a/echo" });
    const texts = body.result.tasks.map(
      (t: { history?: Array<{ parts: Array<{ text?: string }> }> }) => t.history?.[0]?.parts[0]?.text,
    );
    expect(texts).toContain("hello from the gemini cli");
  }, 150_000);

  test("through an a2a profile: input-required, then its answer continues the agent's task", async () => {
    const g = await gemini("ASK-REMOTE relay-sdk: ask: which colour? || blue", "relay-sdk", "sdk", r.token);
    expect(g.code).toBe(0);
    const said = response(g.out);
    expect(said).toContain("which colour?");
    expect(said).toContain("got: blue");
    const mine = agent.received.filter((m) => m.text === "ask: which colour?" || m.text === "blue");
    expect(mine.map((m) => m.text)).toEqual(["ask: which colour?", "blue"]);
    expect(mine[1]!.taskId).toBe(mine[0]!.taskId);
  }, 150_000);

  test("a wrong token: the relay answers 401, the CLI says the call failed, nothing runs", async () => {
    const before = agent.received.length;
    const g = await gemini(
      "ASK-REMOTE relay-sdk: should not run",
      "relay-sdk",
      "sdk",
      "wrong-token-0123456789",
    );
    // the CLI (it reads the card without A2A-Version, so it streams v0.3 `message/stream`) hands
    // the model the relay's 401 and its message
    expect(g.code).toBe(0);
    expect(response(g.out)).toContain("401 Unauthorized");
    expect(response(g.out)).toContain("missing or invalid credential");
    expect(agent.received.length).toBe(before);
  }, 150_000);
});
