import { describe, expect, test } from "bun:test";
import { checkPushTarget, isInternal } from "../../src/push/targets.ts";

describe("push targets (SSRF guard)", () => {
  const allow = ["hooks.example.com", "*.agents.example.org", "127.0.0.1"];
  test.each([
    ["https://hooks.example.com/a2a", true],
    ["http://x.agents.example.org/hook", true],
    ["http://127.0.0.1:8080/hook", true],
    ["https://evil.com/hook", false],
    ["https://evil-agents.example.org/hook", false],
    ["https://agents.example.org.evil.com/x", false],
    ["ftp://hooks.example.com/x", false],
    ["https://user:pw@hooks.example.com/x", false],
    ["http://10.0.0.1/x", false],
    ["http://169.254.169.254/latest/meta-data", false],
    ["not a url", false],
  ])("%s allowed=%p", (url, ok) => {
    if (ok) expect(checkPushTarget(url, allow).href).toBeTruthy();
    else expect(() => checkPushTarget(url, allow)).toThrow();
  });

  test("no push_hosts means no push at all", () => {
    expect(() => checkPushTarget("https://hooks.example.com/x", undefined)).toThrow("not enabled");
  });

  test("a private address must be listed literally, a wildcard is not enough", () => {
    expect(() => checkPushTarget("http://db.internal/x", ["*.internal"])).toThrow("private");
    expect(checkPushTarget("http://db.internal/x", ["db.internal"]).hostname).toBe("db.internal");
  });

  test("internal address classes", () => {
    for (const h of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.1.1",
      "::1",
      "fd00::1",
      "fe80::1",
      "localhost",
    ]) {
      expect(isInternal(h)).toBe(true);
    }
    for (const h of ["8.8.8.8", "172.32.0.1", "2001:db8::1", "example.com"])
      expect(isInternal(h)).toBe(false);
  });
});
