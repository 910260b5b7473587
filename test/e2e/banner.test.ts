import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { type RelayProcess, startBinary, stopAll, waitFor } from "../helpers/binary.ts";

/** `a2a-relay serve` on the embedded defaults: the banner's curl line works and never shows the token. */

let r: RelayProcess;
beforeAll(async () => {
  r = await startBinary();
}, 60_000);
afterAll(stopAll);

/** The curl command of the banner: from `curl` to the end of its continuation lines. */
function curlLine(banner: string): string {
  const lines = banner.split("\n");
  const start = lines.findIndex((l) => l.trimStart().startsWith("curl "));
  expect(start).toBeGreaterThanOrEqual(0);
  const out: string[] = [];
  for (let i = start; i < lines.length; i++) {
    out.push(lines[i]!);
    if (!lines[i]!.trimEnd().endsWith("\\")) break;
  }
  return out.join("\n").trim();
}

test("the token file is created 0600 in the data dir with the one profile echo and peer local", () => {
  const mode = statSync(join(r.dataDir, "tokens", "local.token")).mode & 0o777;
  expect(mode).toBe(0o600);
  expect(r.stderr()).toMatch(/profiles:\s+echo\n/);
  expect(r.stderr()).toMatch(/peers:\s+local\n/);
});

test("the banner's curl line reads the token from its file and does not contain it", () => {
  const curl = curlLine(r.stderr());
  expect(curl).toContain(`$(cat ${join(r.dataDir, "tokens", "local.token")})`);
  expect(curl).not.toContain(r.token);
  expect(r.stdout() + r.stderr()).not.toContain(r.token);
  expect(r.stderr()).not.toContain(r.token);
});

test("running that curl line through bash returns a completed echo task", async () => {
  const curl = curlLine(r.stderr()).replace(/http:\/\/127\.0\.0\.1:\d+/, r.url);
  const res = spawnSync("bash", ["-c", curl], { encoding: "utf8", timeout: 10_000 });
  expect(res.status).toBe(0);
  const body = JSON.parse(res.stdout);
  expect(body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  expect(body.result.task.artifacts[0].parts[0].text).toBe("hello");
  // the request was logged, without the credential
  await waitFor(() => r.stdout().includes('"path":"/a2a/echo"'), 3_000, "the request log line");
  expect(r.stdout() + r.stderr()).not.toContain(r.token);
});
