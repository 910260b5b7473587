import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type FakeModel, FILE, startFakeModel, V1, V2 } from "../helpers/fake-model.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { until } from "../helpers/until.ts";

/**
 * The real-CLI suite: each installed CLI (test/clis/install.sh) driven through an in-process relay
 * against the suite's fake model. One relay per CLI with one profile per scenario.
 */

export const BIN = resolve(import.meta.dir, "../../.cache/clis/node_modules/.bin");

export interface CliCase {
  handler: "claude" | "codex" | "opencode" | "gemini";
  /** What `base_url` is for this CLI, from the fake's root URL. */
  baseUrl: (root: string) => string;
  model?: string;
  /** Seconds for a normal turn (first runs set up databases). */
  turnS?: number;
}

const TOKEN = "sk-fake-test-key";

interface Env {
  relay: TestRelay;
  ok: FakeModel;
  hang: FakeModel;
  denied: FakeModel;
  root: string;
  workdir: (profile: string) => string;
}

export function cliSuite(c: CliCase) {
  const h = c.handler;
  let env: Env;
  const turnS = c.turnS ?? 120;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), `a2a-clitest-${h}-`));
    const [ok, hang, denied] = await Promise.all([
      startFakeModel("ok"),
      startFakeModel("hang"),
      startFakeModel("401"),
    ]);
    const home = join(root, "home");
    const profiles: string[] = [];
    const profile = (name: string, o: { url: string; timeoutS: number; command?: string }) => {
      const wd = join(root, `wd-${name}`);
      mkdirSync(wd, { recursive: true });
      profiles.push(
        [
          `[profiles.${name}]`,
          `handler = "${h}"`,
          `workdir = ${JSON.stringify(wd)}`,
          `command = ${JSON.stringify(o.command ?? join(BIN, h))}`,
          `base_url = ${JSON.stringify(c.baseUrl(o.url))}`,
          `api_key_env = "FAKE_API_KEY"`,
          ...(c.model ? [`model = "${c.model}"`] : []),
          `turn_timeout_s = ${o.timeoutS}`,
          `env = ${tomlInline({
            HOME: home,
            XDG_CONFIG_HOME: join(home, ".config"),
            XDG_DATA_HOME: join(home, ".local/share"),
            XDG_CACHE_HOME: join(home, ".cache"),
            XDG_STATE_HOME: join(home, ".local/state"),
            FAKE_API_KEY: TOKEN,
          })}`,
          "",
        ].join("\n"),
      );
    };
    profile("work", { url: ok.url, timeoutS: turnS });
    profile("hang", { url: hang.url, timeoutS: 6 });
    profile("cancel", { url: hang.url, timeoutS: 120 });
    profile("denied", { url: denied.url, timeoutS: turnS });
    profile("down", { url: "http://127.0.0.1:1", timeoutS: 25 });
    profile("missing", { url: ok.url, timeoutS: 10, command: join(root, "no-such-bin", h) });
    const relay = await startTestRelay({ toml: profiles.join("\n") });
    env = { relay, ok, hang, denied, root, workdir: (p) => join(root, `wd-${p}`) };
  });

  afterAll(async () => {
    await env?.relay.stop();
    await Promise.all([env?.ok.close(), env?.hang.close(), env?.denied.close()]);
    if (env) rmSync(env.root, { recursive: true, force: true });
  });

  const send = async (profile: string, text: string, extra: Record<string, unknown> = {}, params = {}) => {
    const { body } = await env.relay.rpc(
      "SendMessage",
      { message: userMessage(text, extra), ...params },
      { path: `/a2a/${profile}` },
    );
    if (!body.result) throw new Error(`SendMessage failed: ${JSON.stringify(body.error ?? body)}`);
    const task = body.result.task;
    if (process.env.CLITEST_VERBOSE)
      console.log(`[${h}/${profile}] ${task.status.state}: ${task.status.message?.parts?.[0]?.text ?? ""}`);
    return task;
  };

  describe(`${h} through the relay`, () => {
    test("creates a file, then edits it on a resumed session of the same context", async () => {
      const first = await send("work", "Please create the notes file.");
      expect(first.status.state).toBe("TASK_STATE_COMPLETED");
      expect(readFileSync(join(env.workdir("work"), FILE), "utf8")).toBe(V1);
      expect(first.artifacts.at(-1).parts[0].text).toContain(`created ${FILE}`);
      expect(first.metadata.usage.inputTokens).toBeGreaterThan(0);
      expect(first.metadata.usage.outputTokens).toBeGreaterThan(0);
      const sid = first.metadata.cli.sessionId;
      expect(sid).toBeString();
      expect(first.metadata.cli.resumed).toBe(false);

      // The second turn streams: what the CLI reports while it works arrives as WORKING updates.
      const asked = env.ok.requests.length;
      const stream = await env.relay.rpc(
        "SendStreamingMessage",
        { message: userMessage("Now EDIT-FILE: add a line.", { contextId: first.contextId }) },
        { path: "/a2a/work" },
      );
      const events = String(stream.body)
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => JSON.parse(l.slice(6)).result);
      const working = events
        .filter(
          (e) => e?.statusUpdate?.status?.state === "TASK_STATE_WORKING" && e.statusUpdate.status.message,
        )
        .map((e) => e.statusUpdate.status.message.parts[0].text as string);
      if (process.env.CLITEST_VERBOSE) console.log(`[${h}/work] progress: ${JSON.stringify(working)}`);
      expect(working.some((t) => t.includes(FILE))).toBe(true);
      const taskId =
        events.find((e) => e?.task)?.task.id ?? events.find((e) => e?.statusUpdate)?.statusUpdate.taskId;
      const second = (await env.relay.rpc("GetTask", { id: taskId }, { path: "/a2a/work" })).body.result;
      expect(second.id).not.toBe(first.id);
      expect(second.status.state).toBe("TASK_STATE_COMPLETED");
      expect(readFileSync(join(env.workdir("work"), FILE), "utf8")).toBe(V2);
      expect(second.artifacts.at(-1).parts[0].text).toContain(`edited ${FILE}`);
      expect(second.metadata.cli).toMatchObject({ sessionId: sid, resumed: true });
      // The CLI really resumed: the model saw the first turn's prompt in the second turn's requests.
      const later = env.ok.requests.slice(asked).filter((r) => /EDIT-FILE/.test(r.body));
      expect(later.length).toBeGreaterThan(0);
      expect(later.some((r) => r.body.includes("Please create the notes file."))).toBe(true);
      expect(survivors(env.workdir("work"))).toEqual([]);
    });

    test("a hanging model is cut at the turn cap, with no process left", async () => {
      const t0 = Date.now();
      const task = await send("hang", "Please create the notes file.");
      expect(task.status.state).toBe("TASK_STATE_FAILED");
      expect(task.status.message.parts[0].text).toMatch(/turn cap|exceeded/);
      expect(Date.now() - t0).toBeLessThan(6000 + 15_000);
      expect(survivors(env.workdir("hang"))).toEqual([]);
    });

    test("CancelTask mid-turn kills the process group", async () => {
      const before = env.hang.requests.length;
      const task = await send(
        "cancel",
        "Please create the notes file.",
        {},
        { configuration: { returnImmediately: true } },
      );
      await until(() => env.hang.requests.length > before, 120_000);
      expect(survivors(env.workdir("cancel")).length).toBeGreaterThan(0);
      const t0 = Date.now();
      const { body } = await env.relay.rpc("CancelTask", { id: task.id }, { path: "/a2a/cancel" });
      expect(body.result.status.state).toBe("TASK_STATE_CANCELED");
      await until(() => survivors(env.workdir("cancel")).length === 0, 10_000);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });

    test("a 401 from the model is FAILED with a message about the credential", async () => {
      const t0 = Date.now();
      const task = await send("denied", "Please create the notes file.");
      expect(task.status.state).toBe("TASK_STATE_FAILED");
      expect(task.status.message.parts[0].text).toMatch(/credential|401|api key/i);
      expect(task.status.message.parts[0].text).not.toContain(TOKEN);
      expect(Date.now() - t0).toBeLessThan(turnS * 1000);
      // helpers a CLI started outside its process group may take a moment to notice and exit
      await until(() => survivors(env.workdir("denied")).length === 0, 5_000);
    });

    test("an unreachable model is FAILED with a readable message in bounded time", async () => {
      const t0 = Date.now();
      const task = await send("down", "Please create the notes file.");
      expect(task.status.state).toBe("TASK_STATE_FAILED");
      expect(task.status.message.parts[0].text).toMatch(/unreachable|connect|turn cap/i);
      expect(Date.now() - t0).toBeLessThan(25_000 + 15_000);
      await until(() => survivors(env.workdir("down")).length === 0, 5_000);
    });

    test("a missing executable is FAILED naming the command key", async () => {
      const task = await send("missing", "Please create the notes file.");
      expect(task.status.state).toBe("TASK_STATE_FAILED");
      expect(task.status.message.parts[0].text).toContain("profiles.missing.command");
      expect(task.status.message.parts[0].text).toContain("not");
    });
  });
}

/** Processes whose working directory is `dir` (the CLI and anything it started there). */
export function survivors(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`) !== dir) continue;
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z") out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export function installed(handler: string): boolean {
  return existsSync(join(BIN, handler));
}

function tomlInline(o: Record<string, string>): string {
  return `{ ${Object.entries(o)
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join(", ")} }`;
}
