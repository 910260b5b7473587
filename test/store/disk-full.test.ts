import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/binary.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/**
 * Issue 15: a full disk. The data dir lives on a small tmpfs (mounting needs root, as CI has;
 * elsewhere these tests say why they skip). Below the watermark new tasks get -32047 before
 * SQLite fails; when writes do fail, no task is stranded: every waiting caller is answered, and
 * once space returns every task reaches its terminal state on disk.
 */

let mnt: string | undefined;
let skip: string | undefined;

beforeAll(() => {
  mnt = mkdtempSync(join(tmpdir(), "a2a-tmpfs-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt], { stderr: "pipe" });
  if (r.exitCode !== 0) {
    skip = `cannot mount a tmpfs here (${r.stderr.toString().trim() || `exit ${r.exitCode}`})`;
    console.log(`skipping the disk-full tests: ${skip}`);
  }
});
afterAll(() => {
  if (mnt && !skip) Bun.spawnSync(["umount", "-l", mnt]);
  if (mnt) rmSync(mnt, { recursive: true, force: true });
});

const freeMb = (dir: string) => {
  const s = statfsSync(dir);
  return (Number(s.bavail) * Number(s.bsize)) / 1_048_576;
};

/** Fill `dir`'s file system to leave about `leaveMb` free; returns the filler's path. */
function fillTo(dir: string, leaveMb: number): string {
  const path = join(dir, `filler-${crypto.randomUUID()}`);
  const mb = Math.max(0, Math.floor(freeMb(dir) - leaveMb));
  writeFileSync(path, Buffer.alloc(mb * 1_048_576));
  return path;
}

async function readyz(r: TestRelay) {
  const res = await fetch(`${r.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
}

describe("a data dir on a full disk", () => {
  test("below store.min_free_mb: new tasks get -32047 (503, Retry-After) and /readyz says why; it recovers by itself", async () => {
    if (skip) return;
    const dir = join(mnt!, "watermark");
    mkdirSync(dir);
    const r = await startTestRelay({ dir, toml: "[store]\nmin_free_mb = 10\n" });
    try {
      expect(
        (await r.rpc("SendMessage", { message: userMessage("before") })).body.result.task.status.state,
      ).toBe("TASK_STATE_COMPLETED");
      const filler = fillTo(mnt!, 5);
      const refused = await waitFor(
        async () => {
          const x = await r.rpc("SendMessage", { message: userMessage("while low") });
          return x.status === 503 ? x : undefined;
        },
        5000,
        "the watermark to refuse a task",
      );
      expect(refused!.body.error.code).toBe(-32047);
      expect(refused!.body.error.message).toContain("min_free_mb");
      const rz = await readyz(r);
      expect(rz.status).toBe(503);
      expect(rz.body.reason).toContain("min_free_mb");
      rmSync(filler);
      await waitFor(async () => (await readyz(r)).status === 200, 5000, "readiness after space returns");
      expect(
        (await r.rpc("SendMessage", { message: userMessage("after") })).body.result.task.status.state,
      ).toBe("TASK_STATE_COMPLETED");
    } finally {
      await r.stop();
    }
  });

  test("writes failing under load strand nothing: every caller answered, every task terminal on disk after space returns", async () => {
    if (skip) return;
    const dir = join(mnt!, "full");
    mkdirSync(dir);
    const r = await startTestRelay({ dir, toml: "[store]\nmin_free_mb = 0\n" });
    const filler = fillTo(mnt!, 1.5);
    const outcomes = { completed: 0, refused: 0, other: [] as string[] };
    let sawNotReady = false;
    try {
      const until = Date.now() + 4000;
      const client = async (n: number) => {
        for (let i = 0; Date.now() < until && i < 5000; i++) {
          const x = await r.rpc(
            "SendMessage",
            { message: userMessage(`client ${n} turn ${i} ${"x".repeat(200)}`) },
            { headers: {} },
          );
          const state = x.body?.result?.task?.status?.state;
          if (state === "TASK_STATE_COMPLETED") outcomes.completed++;
          else if (x.body?.error?.code === -32047) outcomes.refused++;
          else outcomes.other.push(JSON.stringify(x.body).slice(0, 200));
          if (!sawNotReady && (await readyz(r)).status === 503) sawNotReady = true;
        }
      };
      // every call is bounded: a stranded caller would hang past this
      await Promise.race([
        Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(client)),
        Bun.sleep(30_000).then(() => {
          throw new Error("a caller was left waiting");
        }),
      ]);
      expect(outcomes.refused).toBeGreaterThan(0);
      expect(sawNotReady).toBe(true);
      expect(outcomes.other).toEqual([]);
      rmSync(filler);
      await waitFor(async () => (await readyz(r)).status === 200, 15_000, "readiness after space returns");
      await waitFor(() => r.relay.engine.live.size === 0, 15_000, "every task written");
      const db = new Database(join(dir, "data", "relay.db"), { readonly: true });
      try {
        const open = db
          .query(
            "SELECT count(*) AS n FROM tasks WHERE state IN ('TASK_STATE_WORKING', 'TASK_STATE_SUBMITTED')",
          )
          .get() as { n: number };
        expect(open.n).toBe(0);
      } finally {
        db.close();
      }
      const metrics = await (await fetch(`${r.url}/metrics`)).text();
      expect(metrics).toMatch(/^a2a_relay_turns_running 0$/m);
      expect(
        (await r.rpc("SendMessage", { message: userMessage("after") })).body.result.task.status.state,
      ).toBe("TASK_STATE_COMPLETED");
    } finally {
      rmSync(filler, { force: true });
      await r.stop();
    }
  }, 60_000);
});
