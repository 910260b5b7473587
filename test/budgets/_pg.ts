import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temp dir, listening on a free
 * loopback port, trust auth for one database `relay`. initdb refuses to run as root, so as root
 * the cluster runs as the `postgres` user (Debian's package creates it). `start()` resolves to
 * undefined, with the reason in `skipReason`, only when no PostgreSQL binaries can be found.
 */
export interface PgCluster {
  url: string;
  port: number;
  dir: string;
  /** Stop the server (fast shutdown); `start` again on the same dir. */
  stop(): void;
  start(): void;
  /** Stop and delete the cluster. */
  destroy(): void;
  /** Run SQL as the superuser through psql (in database `db`, default `relay`). */
  psql(sql: string, db?: string): string;
  /** CPU time (user + system, ms) of the server's processes so far (postmaster and its children). */
  cpuMs(): number;
}

export let skipReason = "";

export async function startPg(): Promise<PgCluster | undefined> {
  const bin = pgBin();
  if (!bin) {
    skipReason =
      "PostgreSQL is not installed (apt-get install -y postgresql) — Postgres budget tests skipped";
    console.warn(skipReason);
    return undefined;
  }
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "a2a-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = await freePort();
  const run = (args: string[], check = true) => {
    const cmd = asRoot ? ["runuser", "-u", "postgres", "--", ...args] : args;
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", cwd: dir });
    if (check && r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  if (asRoot) spawnSync("chown", ["postgres", dir]);
  run([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  writeFileSync(
    join(dir, "pg.conf"),
    `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = off\nmax_connections = 200\n`,
  );
  if (asRoot) spawnSync("chown", ["postgres", join(dir, "pg.conf")]);
  run(["sh", "-c", `echo "include '${join(dir, "pg.conf")}'" >> ${join(data, "postgresql.conf")}`]);
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/relay`,
    port,
    dir,
    start() {
      run([join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
    },
    stop() {
      run([join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], false);
    },
    destroy() {
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    psql(sql: string, db = "relay") {
      return run([
        join(bin, "psql"),
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        db,
        "-Atc",
        sql,
      ]);
    },
    cpuMs() {
      const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      const kids = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
        .stdout.trim()
        .split("\n");
      let ticks = 0;
      for (const p of [pid, ...kids.filter(Boolean).map(Number)]) {
        try {
          // utime and stime: fields 14 and 15 of stat (11 and 12 after "pid (comm) "), in clock ticks
          const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
          ticks += Number(f[11]) + Number(f[12]);
        } catch {} // exited meanwhile, or no /proc: 0
      }
      return ticks * 10;
    },
  };
  cluster.start();
  run([
    join(bin, "psql"),
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-U",
    "postgres",
    "-c",
    "CREATE DATABASE relay",
  ]);
  return cluster;
}

// internal

function pgBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}
