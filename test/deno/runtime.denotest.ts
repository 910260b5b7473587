import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { eq, sql } from "drizzle-orm";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { tasks } from "../../src/store/schema.ts";
import { until } from "../helpers/until.ts";

/**
 * The Deno side of the runtime seam, run by `deno test` (`deno task test`): SQLite through the
 * node:sqlite adapter with drizzle's synchronous API, exclusive HTTP bind, process-group kill.
 * node:test + node:assert so the file also type-checks under tsc with Bun's types.
 */

const rt = currentRuntime();
const dir = mkdtempSync(join(tmpdir(), "a2a-relay-deno-rt-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const row = (id: string, updatedAt = 1) => ({
  id,
  peer: "p",
  profile: "echo",
  contextId: "c",
  origin: "o",
  state: "TASK_STATE_COMPLETED",
  taskJson: "{}",
  seq: 1,
  createdAt: 1,
  updatedAt,
});

test("currentRuntime() is the Deno runtime", () => {
  assert.equal(rt.name, "deno");
});

describe("SQLite (node:sqlite under drizzle's synchronous API)", () => {
  const store = openStore(rt, join(dir, "relay.db"));
  after(() => store.close());
  const db = store.db;

  test("migrations ran; WAL is on", () => {
    assert.deepEqual(
      store.conn.query<{ journal_mode: string }>("PRAGMA journal_mode").map((r) => r.journal_mode),
      ["wal"],
    );
    assert.ok(store.conn.query("SELECT hash FROM __drizzle_migrations").length >= 1);
  });

  test("insert, get, all, update with run() results", () => {
    const r = db.insert(tasks).values(row("a")).run() as { changes: number };
    assert.equal(r.changes, 1);
    db.insert(tasks).values(row("b", 2)).run();
    assert.equal(db.select().from(tasks).where(eq(tasks.id, "a")).get()?.profile, "echo");
    assert.equal(db.select().from(tasks).where(eq(tasks.id, "none")).get(), undefined);
    assert.deepEqual(
      db
        .select({ id: tasks.id })
        .from(tasks)
        .orderBy(tasks.updatedAt)
        .all()
        .map((t) => t.id),
      ["a", "b"],
    );
    const u = db.update(tasks).set({ state: "TASK_STATE_FAILED" }).where(eq(tasks.id, "b")).run() as {
      changes: number;
    };
    assert.equal(u.changes, 1);
  });

  test("prepared statements with placeholders", () => {
    const q = db
      .select()
      .from(tasks)
      .where(eq(tasks.id, sql.placeholder("id")))
      .prepare();
    assert.equal(q.get({ id: "b" })?.state, "TASK_STATE_FAILED");
    assert.equal(q.get({ id: "zzz" }), undefined);
  });

  test("a throwing transaction rolls back", () => {
    assert.throws(() =>
      db.transaction((tx) => {
        tx.insert(tasks).values(row("c")).run();
        throw new Error("boom");
      }),
    );
    assert.equal(db.select().from(tasks).where(eq(tasks.id, "c")).get(), undefined);
    db.transaction((tx) => tx.insert(tasks).values(row("d")).run());
    assert.equal(db.select().from(tasks).where(eq(tasks.id, "d")).get()?.id, "d");
  });
});

describe("HTTP (Deno.serve)", () => {
  test("serves, reports the client address, and binds exclusively", async () => {
    let seen = "";
    const a = rt.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (_req, info) => {
        seen = info.remoteAddress;
        info.keepOpen();
        return new Response("ok");
      },
    });
    try {
      const res = await fetch(`http://127.0.0.1:${a.port}/`);
      assert.equal(await res.text(), "ok");
      assert.equal(seen, "127.0.0.1");
      assert.throws(
        () => rt.serve({ hostname: "127.0.0.1", port: a.port, fetch: () => new Response("") }),
        /in use/i,
      );
    } finally {
      await a.stop();
    }
  });
});

describe("processes (Deno.Command, detached)", () => {
  test("killGroup reaches the grandchildren; exited reports 128+signal", async () => {
    const child = rt.spawn({
      cmd: ["sh", "-c", "sleep 30 & echo $!; wait"],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    const grandchild = Number(new TextDecoder().decode(value).trim());
    assert.ok(grandchild > 0);
    assert.equal(pgid(grandchild), child.pid, "the child leads its own process group");
    assert.notEqual(pgid(child.pid), process.pid);
    child.killGroup("SIGTERM");
    assert.equal(await child.exited, 143);
    await until(() => !isRunning(grandchild), 3_000, "the grandchild to get the signal too");
    reader.releaseLock();
  });
});

describe("/proc (lease liveness)", () => {
  test("readProcFile reads /proc with only --allow-run (Deno wants --allow-all for it directly)", () => {
    const r = spawnSync(
      process.execPath,
      ["run", "--quiet", "--allow-run", join(import.meta.dirname!, "proc-read.ts")],
      { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout);
    assert.match(seen.self, /^\d+$/);
    assert.equal(seen.bootId, readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    assert.equal(seen.missing, null);
  });
});

// internal

/** Field 5 of /proc/<pid>/stat: the process group. */
function pgid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** Alive and not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("background WAL checkpointer (a worker thread on node:sqlite)", () => {
  test("copies committed pages into the database file", async () => {
    const { checkpointerCopiesWal } = await import("../helpers/checkpoint-probe.ts");
    const r = await checkpointerCopiesWal(rt, join(dir, "ckpt.db"));
    assert.deepEqual(r, { grew: true, errors: [] });
  });
});

test("mutual TLS is refused on Deno, naming the key (Deno.serve cannot ask for client certificates)", () => {
  const serve = () =>
    rt.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("never"),
      tls: { cert: "unused", key: "unused", minVersion: "1.2", clientCa: "unused", peerCertificates: true },
    });
  assert.throws(serve, /server\.tls\.client_ca_file: mutual TLS needs the Bun runtime/);
});
