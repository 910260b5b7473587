import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/logger.ts";

const logFile = () => join(mkdtempSync(join(tmpdir(), "a2a-log-")), "relay.log");
const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("log lines", () => {
  test("pino's shape: level, time, the fields, msg; below the level nothing", () => {
    const file = logFile();
    const log = createLogger("info", file);
    log.debug({ a: 1 }, "hidden");
    log.info({ peer: "local", status: 200, gone: undefined }, "request");
    log.error({ err: new Error("boom") }, 'a "quoted" message');
    log.warn({}, "bare");
    log.flush();
    const [info, error, warn, more] = lines(file);
    expect(more).toBeUndefined();
    expect(Object.keys(info!)).toEqual(["level", "time", "peer", "status", "msg"]);
    expect(info).toMatchObject({ level: 30, peer: "local", status: 200, msg: "request" });
    expect(Math.abs((info!.time as number) - Date.now())).toBeLessThan(5000);
    expect(error).toMatchObject({
      level: 50,
      err: { type: "Error", message: "boom" },
      msg: 'a "quoted" message',
    });
    expect(warn).toEqual({ level: 40, time: warn!.time, msg: "bare" });
  });

  test("secrets are redacted in the line and the caller's object is left alone", () => {
    const file = logFile();
    const log = createLogger("debug", file);
    const fields = {
      token: "t1",
      peer: { token: "t2", name: "p" },
      req: { headers: { authorization: "Bearer t3" } },
    };
    log.debug(fields, "x");
    log.flush();
    expect(lines(file)[0]).toMatchObject({
      token: "[redacted]",
      peer: { token: "[redacted]", name: "p" },
      req: { headers: { authorization: "[redacted]" } },
    });
    expect(fields.peer.token).toBe("t2");
    expect(fields.req.headers.authorization).toBe("Bearer t3");
  });

  test("fields that cannot be serialised do not lose the event; silent logs nothing; bad levels throw", () => {
    const file = logFile();
    const log = createLogger("info", file);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info({ cyclic }, "still here");
    createLogger("silent", file).error({ a: 1 }, "never");
    log.flush();
    const [only, more] = lines(file);
    expect(more).toBeUndefined();
    expect(only).toMatchObject({ level: 30, msg: "still here" });
    expect(() => createLogger("loud")).toThrow(TypeError);
  });
});
