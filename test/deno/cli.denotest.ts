import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, survivors } from "../clis/harness.ts";
import { rpc, userMessage } from "../e2e/_client.ts";
import { type FakeModel, FILE, startFakeModel, V1 } from "../helpers/fake-model.ts";
import { type DenoRelay, startDenoRelay, stopAllDeno, waitFor } from "./relay.ts";

/**
 * One real coding CLI (Claude Code from test/clis/install.sh, `npm run test:clis`) behind the relay
 * on Deno with the least-privilege flags, against the suite's fake model: a turn that edits a
 * file, and a cancel that must take down the CLI's whole process group (Deno.Command detached +
 * kill(-pgid)). Skipped when the CLI is not installed.
 */

const CLI = join(BIN, "claude");
const installed = existsSync(CLI);

let r: DenoRelay;
let ok: FakeModel;
let hang: FakeModel;
let root: string;

describe.skipIf(!installed)("a real CLI (claude) behind the relay on Deno", () => {
  beforeAll(async () => {
    [ok, hang] = await Promise.all([startFakeModel("ok"), startFakeModel("hang")]);
    root = mkdtempSync(join(tmpdir(), "a2a-deno-cli-"));
    const home = join(root, "home");
    const profile = (name: string, url: string) => {
      mkdirSync(join(root, `wd-${name}`), { recursive: true });
      return [
        `[profiles.${name}]`,
        `handler = "claude"`,
        `workdir = ${JSON.stringify(join(root, `wd-${name}`))}`,
        `command = ${JSON.stringify(CLI)}`,
        `base_url = ${JSON.stringify(url)}`,
        `api_key_env = "FAKE_API_KEY"`,
        `turn_timeout_s = 120`,
        `env = { HOME = ${JSON.stringify(home)}, FAKE_API_KEY = "sk-fake-test-key" }`,
        "",
      ].join("\n");
    };
    r = await startDenoRelay({ toml: profile("work", ok.url) + profile("cancel", hang.url) });
  }, 120_000);

  afterAll(async () => {
    await stopAllDeno();
    await Promise.all([ok?.close(), hang?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("a turn runs the CLI, which writes the file in its workdir", async () => {
    const { body } = await rpc(
      r,
      "SendMessage",
      { message: userMessage("Please create the notes file.") },
      {
        path: "/a2a/work",
        signal: AbortSignal.timeout(150_000),
      },
    );
    expect(body.result?.task?.status).toMatchObject({ state: "TASK_STATE_COMPLETED" });
    expect(readFileSync(join(root, "wd-work", FILE), "utf8")).toBe(V1);
  }, 150_000);

  test("cancel kills the CLI's whole process group", async () => {
    const before = hang.requests.length;
    const { body } = await rpc(
      r,
      "SendMessage",
      { message: userMessage("Please create the notes file."), configuration: { returnImmediately: true } },
      { path: "/a2a/cancel" },
    );
    const id = body.result.task.id as string;
    await waitFor(() => hang.requests.length > before, 60_000, "the CLI to call the model");
    expect(survivors(join(root, "wd-cancel")).length).toBeGreaterThan(0);
    const c = await rpc(r, "CancelTask", { id }, { path: "/a2a/cancel" });
    expect(c.body.result.status.state).toBe("TASK_STATE_CANCELED");
    await waitFor(() => survivors(join(root, "wd-cancel")).length === 0, 10_000, "the CLI processes to exit");
  }, 150_000);
});
