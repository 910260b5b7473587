import type { SharedStore } from "../../config/budget-store.ts";
import { ConfigError } from "../../errors.ts";

/**
 * Whether `err` means the store cannot be reached (as opposed to a refusal or a bug): no SQLSTATE
 * (a socket error, a timeout, a closed connection) or a connection/shutdown/resource class. Both
 * clients name their errors PostgresError: postgres.js puts the SQLSTATE in `code`; Bun's client
 * puts it in `errno` (code ERR_POSTGRES_SERVER_ERROR) and says ERR_POSTGRES_CONNECTION_…, …_TLS_… or
 * …_TIMEOUT when it could not connect or lost the connection.
 */
export function isStoreDown(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string } | undefined;
  if (!e || typeof e !== "object") return false;
  if (e.name !== "PostgresError") return true;
  const code = sqlState(e);
  if (code.startsWith("ERR_POSTGRES_")) return /CONNECTION|TIMEOUT|CLOSED|TLS/.test(code);
  return /^(08|57P|53|58)/.test(code);
}

/** One line on why a store operation failed, without the URL (neither client puts it there). */
export function whyDown(err: unknown): string {
  const e = err as { code?: unknown; errno?: unknown; message?: string } | undefined;
  const msg = String(e?.message ?? err).split("\n")[0] ?? "";
  const code = e && typeof e === "object" ? sqlState(e) : "";
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/** The SQLSTATE of a server's error (either client), else the client's own code. */
function sqlState(e: { code?: unknown; errno?: unknown }): string {
  if (e.code === "ERR_POSTGRES_SERVER_ERROR" && typeof e.errno === "string") return e.errno;
  return typeof e.code === "string" ? e.code : "";
}

/** Why the store cannot be used, naming the key and the store (never its password). */
export function storeError(store: SharedStore, err: unknown): ConfigError {
  const code = err && typeof err === "object" ? sqlState(err) : "";
  const hint =
    code === "28P01" || code === "28000"
      ? " (check the user and the password: budgets.password_env)"
      : code === "3D000"
        ? " (create the database first)"
        : code === "42501"
          ? " (the role needs CREATE on the schema for the first start, see the README)"
          : "";
  return new ConfigError(
    `${store.key}: cannot use the budget store ${store.display}: ${whyDown(err)}${hint}`,
  );
}
