import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, resolveToken, tokenEnvName } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "a2a-relay-config-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const env = { A2A_RELAY_HOME: join(dir, "home") };

describe("config", () => {
  test("embedded defaults: echo profile, local admin peer, 127.0.0.1:9200", () => {
    const c = loadConfig({ env });
    expect(Object.keys(c.profiles)).toEqual(["echo"]);
    expect(c.peers.local?.admin).toBe(true);
    expect(c.server.host).toBe("127.0.0.1");
    expect(c.server.port).toBe(9200);
  });

  test("errors name the file, the key and what is wrong", () => {
    const f = file("bad.toml", '[server]\nport = "x"\n[profiles.a]\nhandler = "nope"\ntypo = 1\n');
    let err: unknown;
    try {
      loadConfig({ file: f, env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const m = (err as Error).message;
    expect(m).toContain(f);
    expect(m).toContain("server.port");
    expect(m).toContain("profiles.a.handler");
    expect(m).toContain("unknown key(s): typo");
  });

  test("a missing workdir and an unknown profile in a peer are refused", () => {
    expect(() =>
      loadConfig({ file: file("w.toml", '[profiles.c]\nhandler = "echo"\nworkdir = "/nope/x"\n'), env }),
    ).toThrow("profiles.c.workdir");
    expect(() =>
      loadConfig({
        file: file("p.toml", '[profiles.e]\nhandler = "echo"\n[peers.x]\nprofiles = ["zzz"]\n'),
        env,
      }),
    ).toThrow('peers.x.profiles: no profile named "zzz"');
  });

  test("flags override the environment, which overrides the file", () => {
    const f = file("o.toml", '[server]\nhost = "127.0.0.2"\nport = 9300\n');
    const c = loadConfig({ file: f, env: { ...env, A2A_RELAY_PORT: "9400" }, host: "127.0.0.3" });
    expect(c.server.host).toBe("127.0.0.3");
    expect(c.server.port).toBe(9400);
  });

  test("token chain: token_env, then A2A_OC_TOKEN_<SLUG>, then a private token_file", () => {
    expect(tokenEnvName("hermes-main")).toBe("A2A_OC_TOKEN_HERMES_MAIN");
    const secret = file("tok", "file-token\n");
    chmodSync(secret, 0o600);
    expect(resolveToken("p", { token_env: "MY_TOK" }, secret, { MY_TOK: "a" })).toMatchObject({
      token: "a",
      source: "env:MY_TOK",
    });
    expect(resolveToken("p-1", {}, secret, { A2A_OC_TOKEN_P_1: "b" })).toMatchObject({ token: "b" });
    expect(resolveToken("p", {}, secret, {})).toMatchObject({
      token: "file-token",
      source: `file:${secret}`,
    });
    chmodSync(secret, 0o644);
    const open = resolveToken("p", {}, secret, {});
    expect(open.resolved).toBe(false);
    expect(open.error).toContain("readable by other users");
  });
});
