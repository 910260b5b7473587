import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ExecutableNotFound,
  groupMembers,
  resolveExecutable,
  supervise,
} from "../../src/receivers/supervise.ts";
import { currentRuntime } from "../../src/runtime/index.ts";

const dir = mkdtempSync(join(tmpdir(), "a2a-supervise-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const { spawn } = currentRuntime();
const never = new AbortController().signal;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie waiting for its reaper is dead for our purpose
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("supervise", () => {
  test("reads stdout line by line, keeps the stderr tail and the exit code, in the given cwd", async () => {
    const s = script("ok.sh", 'echo one; printf "two\\nthree"; echo oops >&2; pwd; exit 3');
    const lines: string[] = [];
    const r = await supervise({
      spawn,
      cmd: [s],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      signal: never,
      onLine: (l) => {
        lines.push(l);
        return undefined;
      },
    });
    expect(lines).toEqual(["one", "two", `three${dir}`]);
    expect(r.code).toBe(3);
    expect(r.stderrTail).toBe("oops\n");
    expect(r.stopped).toBeUndefined();
  });

  test("the environment is exactly what it is given", async () => {
    const s = script("env.sh", "env");
    const lines: string[] = [];
    await supervise({
      spawn,
      cmd: [s],
      cwd: dir,
      env: { ...env, ONLY_THIS: "1" },
      timeoutMs: 10_000,
      signal: never,
      onLine: (l) => void lines.push(l),
    });
    expect(lines).toContain("ONLY_THIS=1");
    expect(lines.some((l) => l.startsWith("HOME="))).toBe(false);
  });

  test("a hanging process is cut at the cap", async () => {
    const s = script("hang.sh", "echo started; exec sleep 600");
    const t0 = Date.now();
    const r = await supervise({ spawn, cmd: [s], cwd: dir, env, timeoutMs: 300, signal: never });
    expect(r.stopped?.reason).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(alive(r.pid)).toBe(false);
  });

  test("SIGTERM ignored: SIGKILL after the grace; a grandchild that ignores SIGTERM dies too", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const s = script(
      "stubborn.sh",
      `trap '' TERM\n(trap '' TERM; exec sleep 600) &\necho $! > ${pidFile}\necho ready\nwhile :; do sleep 1; done`,
    );
    const ac = new AbortController();
    const t0 = Date.now();
    const r = await supervise({
      spawn,
      cmd: [s],
      cwd: dir,
      env,
      timeoutMs: 30_000,
      signal: ac.signal,
      graceMs: 300,
      onLine: (l) => {
        if (l === "ready") ac.abort(new Error("canceled by test"));
        return undefined;
      },
    });
    expect(r.stopped).toEqual({ reason: "aborted", detail: "canceled by test" });
    expect(Date.now() - t0).toBeLessThan(5000);
    const grandchild = Number(require("node:fs").readFileSync(pidFile, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    expect(alive(r.pid)).toBe(false);
    expect(alive(grandchild)).toBe(false);
    expect(groupMembers(r.pid)).toEqual([]);
  });

  test("a leader that exits normally does not leave a background grandchild behind", async () => {
    const pidFile = join(dir, "bg.pid");
    const s = script("leaves-bg.sh", `sleep 600 >/dev/null 2>&1 &\necho $! > ${pidFile}\necho bye`);
    const r = await supervise({
      spawn,
      cmd: [s],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      signal: never,
      graceMs: 300,
    });
    expect(r.code).toBe(0);
    const bg = Number(require("node:fs").readFileSync(pidFile, "utf8"));
    expect(alive(bg)).toBe(false);
  });

  test("onLine can stop the run (fatal output) and the output cap stops a flood", async () => {
    const s = script("loop.sh", "while :; do echo retrying; sleep 0.05; done");
    const r = await supervise({
      spawn,
      cmd: [s],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      signal: never,
      onLine: () => "endpoint unreachable",
    });
    expect(r.stopped).toEqual({ reason: "requested", detail: "endpoint unreachable" });
    const flood = script("flood.sh", "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    const f = await supervise({
      spawn,
      cmd: [flood],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      signal: never,
      maxStdoutBytes: 100_000,
    });
    expect(f.stopped?.reason).toBe("output-limit");
  });

  test("a missing executable is ExecutableNotFound, before anything runs", async () => {
    await expect(
      supervise({ spawn, cmd: ["no-such-cli-xyz"], cwd: dir, env, timeoutMs: 1000, signal: never }),
    ).rejects.toBeInstanceOf(ExecutableNotFound);
    expect(() => resolveExecutable("/nope/bin/cli", env.PATH, dir)).toThrow("no such executable");
    expect(resolveExecutable("sh", env.PATH, dir)).toMatch(/\/sh$/);
  });
});
