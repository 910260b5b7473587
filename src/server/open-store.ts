import { RelayError } from "../errors.ts";
import { dataDirUnwritable, storeUnreadable } from "../host-errors.ts";
import type { Runtime } from "../runtime/index.ts";
import { openStore, type Store } from "../store/db.ts";

/**
 * Open the database; one that cannot be opened or written (permissions, read-only), or that is not
 * a database SQLite can read (damaged, or another file), exits 2 naming it and what to do.
 */
export function openOrExplain(runtime: Runtime, dbPath: string, synchronous: "NORMAL" | "FULL"): Store {
  try {
    return openStore(runtime, dbPath, { synchronous });
  } catch (err) {
    if (err instanceof RelayError) throw err;
    const msg = String((err as Error)?.message ?? err);
    if (/readonly|read-only|unable to open|cannot open|permission|EACCES|EROFS|EPERM/i.test(msg))
      throw dataDirUnwritable(dbPath, new Error(msg));
    if (/not a database|malformed|SQLITE_NOTADB|SQLITE_CORRUPT/i.test(msg))
      throw storeUnreadable(dbPath, err);
    throw err;
  }
}
