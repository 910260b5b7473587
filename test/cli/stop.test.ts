import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/until.ts";
import { runCli, type Served, serveProcess } from "./_serve.ts";

/**
 * `serve` as a process, SIGTERM while `tasks watch` and `send` follow running turns: each ends
 * with its task (FAILED once the grace is spent, printed from the stream: the relay is gone by
 * then) and the relay exits 0 within the grace, instead of waiting for the streams until killed.
 */

const configFile = join(tmpdir(), `a2a-relay-stop-${process.pid}.toml`);
writeFileSync(configFile, "[server]\nshutdown_grace_s = 1\n");
let r: Served | undefined;
afterAll(async () => {
  await r?.stop();
  rmSync(configFile, { force: true });
});

test("SIGTERM while `tasks watch` and `send` follow running turns: both end with their task, the relay exits 0 within the grace", async () => {
  r = await serveProcess(["--port", "0", "--config", configFile]);
  const via = ["--url", r.url, "--data-dir", r.dataDir];
  const started = await runCli(["send", "echo", "sleep:20000 too long", "--no-wait", ...via], r.env);
  expect(started.code).toBe(0);
  const id = started.out.trim();
  const watch = runCli(["tasks", "watch", id, ...via], r.env);
  const sent = runCli(["send", "echo", "sleep:20000 also too long", ...via], r.env);
  // both follow their task's stream (the watch has read the task and subscribed; the send's own
  // stream is open): a fixed sleep here was too short on a loaded machine
  await until(
    async () => {
      const m = await (await fetch(`${r!.url}/metrics`)).text();
      return Number(/^a2a_relay_subscribers (\d+)$/m.exec(m)?.[1] ?? 0) >= 2;
    },
    10_000,
    "the watch and the send to subscribe",
  );
  const t0 = Date.now();
  r.proc.kill("SIGTERM");
  const code = await Promise.race([r.proc.exited, Bun.sleep(8_000).then(() => "still running")]);
  expect(code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(3_000);
  const watched = await watch;
  expect(watched.code).toBe(1);
  expect(watched.err).toContain(`task ${id} failed: relay shutting down`);
  // a send following its turn's stream ends the same way, not with "cannot reach" the stopped relay
  const send = await sent;
  expect(send.code).toBe(1);
  expect(send.err).toMatch(/task \S+ failed: relay shutting down/);
}, 30_000);
