import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { startRelay } from "../../src/server.ts";

/** Issue 15 (6): configs that looked fine but were not. */

describe("config errors", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const withConfig = (toml: string) => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-relay-uptime-cfg-"));
    dirs.push(dir);
    const file = join(dir, "config.toml");
    writeFileSync(file, toml);
    return { dir, file };
  };

  test('[server] host = "0.0.0.0" with no [peers] is refused like --host 0.0.0.0', async () => {
    const { dir, file } = withConfig(`[server]\nhost = "0.0.0.0"\nport = 0\n`);
    const config = loadConfig({ file, env: { A2A_RELAY_HOME: join(dir, "data") }, prepare: true });
    const err = await startRelay(config, currentRuntime(), createLogger("silent")).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain("0.0.0.0");
    expect(err.message).toContain("--insecure-no-auth");
  });

  test("a config that names a peer of its own may bind 0.0.0.0", async () => {
    const { dir, file } = withConfig(`[server]\nhost = "0.0.0.0"\nport = 0\n[peers.ci]\nprofiles = ["*"]\n`);
    const env = { A2A_RELAY_HOME: join(dir, "data"), A2A_OC_TOKEN_CI: "ci-token-0123456789abcdef" };
    const config = loadConfig({ file, env, prepare: true });
    const relay = await startRelay(config, currentRuntime(), createLogger("silent"), { env });
    await relay.stop();
  });

  test("two peers with the same token: a config error naming both, never the token", () => {
    const token = "shared-secret-token-0123456789";
    const { file } = withConfig(`[peers.alpha]\nprofiles = ["*"]\n[peers.beta]\nprofiles = ["*"]\n`);
    const env = { A2A_OC_TOKEN_ALPHA: token, A2A_OC_TOKEN_BETA: token };
    let err: unknown;
    try {
      loadConfig({ file, env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain("peers.alpha");
    expect(msg).toContain("peers.beta");
    expect(msg).not.toContain(token);
  });
});
