import { describe, expect, test } from "bun:test";
import { isStoreDown, whyDown } from "../../src/budgets/pg/errors.ts";

// The shapes of the two clients' errors (postgres.js, and Bun's built-in client that makes the
// ledger's group-commit calls on Bun), as each throws them.
const pgjs = (code: string, message: string) =>
  Object.assign(new Error(message), { name: "PostgresError", code });
const bun = (code: string, message: string, errno?: string) =>
  Object.assign(new Error(message), { name: "PostgresError", code, ...(errno ? { errno } : {}) });

describe("the shared store's errors, from either client", () => {
  test("unreachable, lost or shut down: the store is down", () => {
    expect(isStoreDown(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(
      true,
    );
    expect(isStoreDown(pgjs("57P01", "terminating connection due to administrator command"))).toBe(true);
    expect(isStoreDown(bun("ERR_POSTGRES_CONNECTION_REFUSED", "Failed to connect"))).toBe(true);
    expect(
      isStoreDown(
        bun("ERR_POSTGRES_CONNECTION_FAILED", "Connection closed before the connection was established"),
      ),
    ).toBe(true);
    expect(isStoreDown(bun("ERR_POSTGRES_CONNECTION_CLOSED", "Connection closed"))).toBe(true);
    expect(isStoreDown(bun("ERR_POSTGRES_TLS_NOT_AVAILABLE", "Server does not support SSL"))).toBe(true);
    expect(
      isStoreDown(
        bun("ERR_POSTGRES_SERVER_ERROR", "terminating connection due to administrator command", "57P01"),
      ),
    ).toBe(true);
    expect(isStoreDown(bun("ERR_POSTGRES_SERVER_ERROR", "the database system is starting up", "57P03"))).toBe(
      true,
    );
  });

  test("a refusal or a bug is not an outage", () => {
    expect(isStoreDown(pgjs("42P01", 'relation "nope" does not exist'))).toBe(false);
    expect(isStoreDown(bun("ERR_POSTGRES_SERVER_ERROR", "division by zero", "22012"))).toBe(false);
    expect(isStoreDown(bun("ERR_POSTGRES_SERVER_ERROR", "password authentication failed", "28P01"))).toBe(
      false,
    );
    expect(isStoreDown(bun("ERR_POSTGRES_SYNTAX_ERROR", "bad query"))).toBe(false);
  });

  test("the line names the SQLSTATE of a server's error, whichever client threw it", () => {
    expect(whyDown(pgjs("57P01", "terminating connection"))).toBe("57P01: terminating connection");
    expect(whyDown(bun("ERR_POSTGRES_SERVER_ERROR", "terminating connection", "57P01"))).toBe(
      "57P01: terminating connection",
    );
    expect(whyDown(bun("ERR_POSTGRES_CONNECTION_REFUSED", "Failed to connect"))).toBe(
      "ERR_POSTGRES_CONNECTION_REFUSED: Failed to connect",
    );
  });
});
