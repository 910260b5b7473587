import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { ROOT, runCli, type Served, serveProcess } from "./_serve.ts";

/**
 * Live progress of `send` and `tasks watch`: on a terminal (a tmux pane, read back as a screen),
 * one status line updated in place; through a pipe, one line per event on stderr; Ctrl-C
 * detaches (or cancels with --cancel-on-interrupt) and says how to pick the task up again.
 */

let r: Served;
beforeAll(async () => {
  r = await serveProcess(["--port", "0"]);
}, 20_000);
afterAll(async () => {
  await r.stop();
});

const via = () => ["--url", r.url, "--data-dir", r.dataDir];

// tmux draws the pseudo-terminal (.ci/run installs it)
test.skipIf(!Bun.which("tmux"))(
  "on a terminal: one status line updated in place, then the answer",
  async () => {
    const sock = `a2a-relay-test-${process.pid}`;
    const tmux = (...a: string[]) => spawnSync("tmux", ["-L", sock, ...a], { encoding: "utf8" });
    const envArgs = Object.entries(r.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const cmd = `${process.execPath} src/main.ts send echo 'sleep:2500 hi' ${via().join(" ")}; echo EXIT=$?; sleep 30`;
    const started = tmux("new-session", "-d", "-x", "100", "-y", "12", "-c", ROOT, ...envArgs, cmd);
    expect(started.status).toBe(0);
    try {
      const screen = () => tmux("capture-pane", "-p").stdout;
      const seen: string[] = [];
      const deadline = Date.now() + 15_000;
      while (!screen().includes("EXIT=") && Date.now() < deadline) {
        seen.push(screen());
        await Bun.sleep(100);
      }
      const working = seen.filter((s) => s.includes("[working]"));
      expect(working.length).toBeGreaterThan(2);
      // in place: the status line is one line, and its elapsed time moves
      for (const s of working) expect(s.split("\n").filter((l) => l.includes("[")).length).toBe(1);
      const times = new Set(working.map((s) => /\] (\d+\.\d)s/.exec(s)?.[1]));
      expect(times.size).toBeGreaterThan(1);
      expect(working.some((s) => s.includes("echo: waiting"))).toBe(true);
      const end = screen();
      expect(end).toContain("hi\nEXIT=0");
      expect(end).not.toContain("[working]");
    } finally {
      tmux("kill-server");
    }
  },
  30_000,
);

test("through a pipe: one line per event on stderr, only the answer on stdout", async () => {
  const got = await runCli(["send", "echo", "sleep:300 hi", ...via()], r.env);
  expect(got.code).toBe(0);
  expect(got.out).toBe("hi\n");
  const lines = got.err.trim().split("\n");
  expect(lines[0]).toMatch(/^task \S+ \(context \S+\): submitted$/);
  expect(lines).toContain("completed: hi");
  expect(lines.some((l) => l.startsWith("working"))).toBe(true);
});

test("tasks watch ID reattaches to a running task and prints its answer", async () => {
  const started = await runCli(["send", "echo", "sleep:1500 later", "--no-wait", ...via()], r.env);
  expect(started.code).toBe(0);
  const id = started.out.trim();
  const watched = await runCli(["tasks", "watch", id, ...via()], r.env);
  expect(watched).toMatchObject({ code: 0, out: "later\n" });
  expect(watched.err).toContain("working");
  // a settled task: the answer at once
  expect(await runCli(["tasks", "watch", id, ...via()], r.env)).toMatchObject({ code: 0, out: "later\n" });
}, 15_000);

async function interrupted(extra: string[]) {
  const proc = Bun.spawn(
    [process.execPath, "src/main.ts", "send", "echo", "sleep:4000 slow", ...via(), ...extra],
    { cwd: ROOT, env: r.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  let err = "";
  const dec = new TextDecoder();
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  while (!err.includes("working")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += dec.decode(value, { stream: true });
  }
  proc.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    err += dec.decode(value, { stream: true });
  }
  const code = await proc.exited;
  const id = /^task (\S+)/m.exec(err)?.[1] ?? "";
  return { code, err, id };
}

test("Ctrl-C detaches and prints the tasks watch / tasks cancel lines; watch picks it up", async () => {
  const { code, err, id } = await interrupted([]);
  expect(code).toBe(130);
  expect(err).toContain(`a2a-relay tasks watch ${id} --url ${r.url} --data-dir ${r.dataDir}`);
  expect(err).toContain(`a2a-relay tasks cancel ${id} --url ${r.url}`);
  expect(await runCli(["tasks", "watch", id, ...via()], r.env)).toMatchObject({ code: 0, out: "slow\n" });
}, 20_000);

test("--cancel-on-interrupt cancels the task", async () => {
  const { code, err, id } = await interrupted(["--cancel-on-interrupt"]);
  expect(code).toBe(130);
  expect(err).toContain(`task ${id} canceled (--cancel-on-interrupt)`);
  const got = await runCli(["tasks", "get", id, "--json", ...via()], r.env);
  expect(JSON.parse(got.out).status.state).toBe("TASK_STATE_CANCELED");
}, 20_000);
