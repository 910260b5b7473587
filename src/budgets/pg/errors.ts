import type { SharedStore } from "../../config/budget-store.ts";
import { ConfigError } from "../../errors.ts";

/**
 * Whether `err` means the store cannot be reached (as opposed to a refusal or a bug): no SQLSTATE
 * (a socket error, a timeout, a closed connection) or a connection/shutdown/resource class.
 */
export function isStoreDown(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string } | undefined;
  if (!e || typeof e !== "object") return false;
  const code = typeof e.code === "string" ? e.code : "";
  if (e.name === "PostgresError") return /^(08|57P|53|58)/.test(code);
  return true;
}

/** One line on why a store operation failed, without the URL (postgres.js never puts it there). */
export function whyDown(err: unknown): string {
  const e = err as { code?: unknown; message?: string } | undefined;
  const msg = String(e?.message ?? err).split("\n")[0] ?? "";
  return typeof e?.code === "string" && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

/** Why the store cannot be used, naming the key and the store (never its password). */
export function storeError(store: SharedStore, err: unknown): ConfigError {
  const e = err as { code?: string };
  const hint =
    e?.code === "28P01" || e?.code === "28000"
      ? " (check the user and the password: budgets.password_env)"
      : e?.code === "3D000"
        ? " (create the database first)"
        : e?.code === "42501"
          ? " (the role needs CREATE on the schema for the first start, see the README)"
          : "";
  return new ConfigError(
    `${store.key}: cannot use the budget store ${store.display}: ${whyDown(err)}${hint}`,
  );
}
