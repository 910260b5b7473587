import { describe, expect, test } from "bun:test";
import {
  budgetExceeded,
  clientClosed,
  contentTypeNotSupported,
  internalError,
  invalidAgentResponse,
  invalidParams,
  profileForbidden,
  profileNotFound,
  taskNotCancelable,
  taskNotFound,
  unauthenticated,
} from "../../src/errors.ts";
import { httpStatus } from "../../src/http/errors.ts";

describe("one status table for every binding", () => {
  const cases = [
    // error, JSON-RPC, HTTP+JSON and /send
    [contentTypeNotSupported("text/plain"), 415, 415],
    [taskNotFound("t"), 200, 404],
    [profileNotFound("x", []), 200, 404],
    [taskNotCancelable("t", "completed"), 200, 400],
    [invalidParams("bad"), 200, 400],
    [invalidAgentResponse("bad"), 200, 500],
    [internalError(), 200, 500],
    [unauthenticated(), 401, 401],
    [profileForbidden("x", "p"), 403, 403],
    [budgetExceeded({ peer: "p", limit: "max_turns", used: 1, max: 1 }), 429, 429],
    [clientClosed(), 499, 499],
  ] as const;
  for (const [err, rpc, http] of cases) {
    test(`${err.reason}: JSON-RPC ${rpc}, HTTP+JSON and /send ${http}`, () => {
      expect(httpStatus(err, "jsonrpc")).toBe(rpc);
      expect(httpStatus(err, "rest")).toBe(http);
      expect(httpStatus(err, "send")).toBe(http);
    });
  }
});
