import { ConfigError } from "../errors.ts";
import type { BudgetStoreConfig } from "./schema.ts";

/** Where the fleet's shared budget ledger lives: a PostgreSQL server. */
export interface SharedStore {
  /** The connection URL, password included (never log it: `display` is for logs and errors). */
  url: string;
  /** `postgres://user@host:port/db`: no password, no query. */
  display: string;
  /** Where the URL came from: `budgets.store` or `A2A_RELAY_BUDGET_STORE`. */
  key: string;
}

/** `[budgets]` resolved: `store` undefined keeps the ledger in this relay's SQLite database. */
export interface BudgetsSetup {
  store: SharedStore | undefined;
  onStoreDown: "refuse" | "local";
  leaseS: number;
}

/**
 * Resolve `[budgets]`: the store URL from `A2A_RELAY_BUDGET_STORE` or `budgets.store`, its
 * password from the URL or the variable `password_env` names. Errors name the key, never the
 * password.
 */
export function resolveBudgetsSetup(
  where: string,
  raw: BudgetStoreConfig,
  env: Record<string, string | undefined>,
): BudgetsSetup {
  const fromEnv = env.A2A_RELAY_BUDGET_STORE?.trim();
  const key = fromEnv ? "A2A_RELAY_BUDGET_STORE" : "budgets.store";
  const text = fromEnv || raw.store;
  const fail = (k: string, why: string) => new ConfigError(`config error in ${where}: ${k}: ${why}`);
  if (!text) {
    if (raw.password_env) throw fail("budgets.password_env", "set budgets.store too (the Postgres URL)");
    return { store: undefined, onStoreDown: raw.on_store_down, leaseS: raw.lease_s };
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw fail(key, `not a URL; use postgres://USER@HOST:5432/DATABASE`);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:")
    throw fail(key, `"${u.protocol}" is not supported; use postgres://USER@HOST:5432/DATABASE`);
  if (!u.hostname) throw fail(key, "the URL names no host; use postgres://USER@HOST:5432/DATABASE");
  if (!u.username) throw fail(key, "the URL names no user; use postgres://USER@HOST:5432/DATABASE");
  if (u.searchParams.has("password"))
    throw fail(key, "put no password in the query; use budgets.password_env (or the URL's user:password@)");
  if (raw.password_env) {
    const pw = env[raw.password_env];
    if (!pw) throw fail("budgets.password_env", `${raw.password_env} is not set (the store's password)`);
    if (u.password) throw fail("budgets.password_env", `the URL (${key}) already has a password; keep one`);
    u.password = encodeURIComponent(pw);
  }
  const shown = new URL(u.href);
  shown.password = "";
  shown.search = "";
  return {
    store: { url: u.href, display: shown.href, key },
    onStoreDown: raw.on_store_down,
    leaseS: raw.lease_s,
  };
}
