import { statSync } from "node:fs";
import type { Runtime } from "../../src/runtime/index.ts";
import { startCheckpointer } from "../../src/store/checkpointer.ts";
import { openStore } from "../../src/store/db.ts";

/**
 * Does the checkpoint worker of `runtime` copy the WAL into the database file? Writes ~1 MB into
 * the WAL of a new database at `path` (auto-checkpoints off), starts the worker, and reports
 * whether the file grew by that much before the connection closed (closing checkpoints too).
 * Shared by the Bun and the Deno suites.
 */
export async function checkpointerCopiesWal(
  runtime: Runtime,
  path: string,
): Promise<{ grew: boolean; errors: string[] }> {
  const store = openStore(runtime, path);
  store.conn.exec("PRAGMA wal_autocheckpoint = 0"); // only the worker may checkpoint now
  store.conn.exec("CREATE TABLE blob (v TEXT)");
  store.conn.exec("BEGIN");
  for (let i = 0; i < 500; i++) store.conn.query("INSERT INTO blob VALUES (?)", ["x".repeat(2000)]);
  store.conn.exec("COMMIT");
  const target = statSync(path).size + 500 * 2000;
  const errors: string[] = [];
  const ck = startCheckpointer(runtime.workerSqlite, path, 20, (m) => errors.push(m));
  const end = Date.now() + 5000;
  while (statSync(path).size <= target && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const grew = statSync(path).size > target;
  await ck.stop();
  store.close();
  return { grew, errors };
}
