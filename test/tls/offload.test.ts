import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { proxyMatcher } from "../../src/config/proxies.ts";
import type { Logger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { startRelay } from "../../src/server.ts";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";

/** Issue 16: TLS offloaded to a proxy in front; X-Forwarded-* believed only from trusted_proxies. */

const started: TestRelay[] = [];
afterAll(async () => {
  for (const r of started) await r.stop();
});

const forwarded = {
  "a2a-version": "1.0",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "relay.example:8443",
};
const cardUrl = async (url: string, path = "/.well-known/agent-card.json") => {
  const card = (await (await fetch(`${url}${path}`, { headers: forwarded })).json()) as {
    supportedInterfaces: Array<{ url: string }>;
  };
  return card.supportedInterfaces[0]!.url;
};

describe("X-Forwarded-Proto/Host", () => {
  test("from a trusted proxy: the card names the proxy's https URL", async () => {
    const r = await startTestRelay({
      toml: `[server]\ntls_offloaded = true\ntrusted_proxies = ["127.0.0.0/8"]\n[profiles.echo]\nhandler = "echo"\n`,
    });
    started.push(r);
    expect(await cardUrl(r.url)).toBe("https://relay.example:8443/a2a");
    expect(await cardUrl(r.url, "/a2a/echo/.well-known/agent-card.json")).toBe(
      "https://relay.example:8443/a2a/echo",
    );
  });

  test("spoofed from an address outside trusted_proxies: ignored, the card names the relay itself", async () => {
    const r = await startTestRelay({
      toml: `[server]\ntls_offloaded = true\ntrusted_proxies = ["10.0.0.0/8", "fd00::/8"]\n[profiles.echo]\nhandler = "echo"\n`,
    });
    started.push(r);
    expect(await cardUrl(r.url)).toBe(`${r.url}/a2a`);
    expect(await cardUrl(r.url, "/a2a/echo/.well-known/agent-card.json")).toBe(`${r.url}/a2a/echo`);
  });

  test("with no trusted_proxies (the default) nobody's forwarded headers count", async () => {
    const r = await startTestRelay();
    started.push(r);
    expect(await cardUrl(r.url)).toBe(`${r.url}/a2a`);
  });

  test("matching: CIDR blocks, single addresses, IPv4-mapped IPv6", () => {
    const m = proxyMatcher(["10.0.0.0/8", "192.0.2.7", "fd00::/8"]);
    expect(m("10.200.1.1")).toBe(true);
    expect(m("::ffff:10.1.2.3")).toBe(true);
    expect(m("192.0.2.7")).toBe(true);
    expect(m("192.0.2.8")).toBe(false);
    expect(m("fd12::1")).toBe(true);
    expect(m("127.0.0.1")).toBe(false);
    expect(m("")).toBe(false);
  });

  test("a bad entry is a config error naming the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-proxies-"));
    const file = join(dir, "c.toml");
    writeFileSync(file, `[server]\ntrusted_proxies = ["10.0.0.0/33"]\n`);
    try {
      expect(() => loadConfig({ file, env: { A2A_RELAY_HOME: join(dir, "data") } })).toThrow(
        /server\.trusted_proxies\.0.*CIDR/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the clear-text warning off loopback", () => {
  const startOn = async (extra: string) => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-offload-"));
    const file = join(dir, "c.toml");
    writeFileSync(file, `[server]\nhost = "0.0.0.0"\n${extra}[peers.p]\ntoken_env = "P_TOKEN"\n`);
    const env = {
      P_TOKEN: "p-token-offload-0123456789",
      A2A_RELAY_HOME: join(dir, "data"),
      A2A_RELAY_LOCK_DIR: join(dir, "locks"),
    };
    const config = loadConfig({ file, env, port: "0", prepare: true });
    const warnings: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (_f, msg) => warnings.push(msg ?? ""),
      error: () => {},
      flush: (cb) => cb?.(),
    };
    const relay = await startRelay(config, currentRuntime(), logger, { env });
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
    return warnings;
  };

  test("without TLS it names the risk; tls_offloaded = true (with a trusted proxy) says nothing", async () => {
    expect((await startOn("")).some((w) => w.includes("clear text"))).toBe(true);
    const offloaded = await startOn('tls_offloaded = true\ntrusted_proxies = ["10.0.0.1"]\n');
    expect(offloaded.some((w) => w.includes("clear text"))).toBe(false);
    expect(offloaded).toEqual([]);
    const noProxy = await startOn("tls_offloaded = true\n");
    expect(noProxy.some((w) => w.includes("trusted_proxies"))).toBe(true);
  });
});
