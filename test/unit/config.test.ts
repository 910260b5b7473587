import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, resolveToken, tokenEnvName } from "../../src/config/load.ts";
import { parseConfig } from "../../src/config/parse.ts";
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

  test("sections built on first use (TLS, a peer's jwt and budget) name the key and hint at typos", () => {
    const text = [
      "[server.tls]",
      'min_versoin = "1.3"',
      "[peers.a]",
      'token_env = "A_TOKEN"',
      "[peers.a.jwt]",
      'secret_env = "A_SECRET"',
      "max_ttl_s = 0",
      "[peers.a.budget]",
      "max_turns = -1",
      "[peers.a.budget.profiles.echo]",
      "max_tokns = 5",
      "[peers.a.tls]",
    ].join("\n");
    let m = "";
    try {
      parseConfig(text, {}, { file: "t.toml", machine: { cwd: dir, home: dir, hostname: "h", uid: 0 } });
    } catch (e) {
      m = (e as Error).message;
    }
    expect(m).toContain("server.tls: unknown key(s): min_versoin (did you mean min_version?)");
    expect(m).toContain("peers.a.jwt.max_ttl_s");
    expect(m).toContain("peers.a.budget.max_turns");
    expect(m).toContain("peers.a.budget.profiles.echo: unknown key(s): max_tokns (did you mean max_tokens?)");
    expect(m).toContain('peers.a.tls: set subject ("CN=host-a") or san ("DNS:host-a")');
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

describe("parsing is a pure function of (text, env)", () => {
  const machine = { cwd: "/work", home: "/home/u", hostname: "h1", uid: 1000 };
  const text =
    '[server]\ndata_dir = "state"\n[peers.bot]\ntoken_file = "bot.token"\n[profiles.e]\nhandler = "echo"\n';

  test("paths come out absolute next to the file; nothing is read or created", () => {
    const c = parseConfig(text, { A2A_RELAY_PORT: "9400" }, { file: "/nowhere/relay.toml", machine });
    expect(c.server.dataDir).toBe("/nowhere/state");
    expect(c.server.port).toBe(9400);
    expect(c.server.id).toBe("h1");
    expect(c.peers.bot?.token_file).toBe("/nowhere/bot.token");
    expect(c.peers.local).toMatchObject({ builtin: true, token_file: "/nowhere/state/tokens/local.token" });
    expect(existsSync("/nowhere")).toBe(false);
    // the same inputs, the same result
    expect(parseConfig(text, { A2A_RELAY_PORT: "9400" }, { file: "/nowhere/relay.toml", machine })).toEqual(
      c,
    );
  });

  test("only serve (prepare) creates the data dir and the local token file", () => {
    const home = join(dir, "fresh-home");
    loadConfig({ env: { A2A_RELAY_HOME: home } });
    expect(existsSync(home)).toBe(false);
    const c = loadConfig({ env: { A2A_RELAY_HOME: home }, prepare: true });
    expect(existsSync(join(home, "tokens", "local.token"))).toBe(true);
    expect(c.peers.local?.credential.resolved).toBe(true);
  });
});

describe("profiles are discriminated by handler", () => {
  const machine = { cwd: "/", home: "/h", hostname: "h", uid: 0 };
  const parse = (profile: string) => () =>
    parseConfig(`[profiles.p]\n${profile}\n`, {}, { file: "/c.toml", machine });

  test("another handler's key is an error naming the key and the profile", () => {
    expect(parse('handler = "llm"\nworkdir = "/srv"')).toThrow(
      'profiles.p.workdir: a handler = "llm" profile does not take this key (it is for opencode/claude/codex/gemini/agy profiles)',
    );
    expect(parse('handler = "echo"\nurl = "http://x/"')).toThrow(
      'profiles.p.url: a handler = "echo" profile',
    );
    expect(parse('remote = "http://r/"\nmodel = "m"')).toThrow(
      "profiles.p.model: a remote profile does not take this key",
    );
    expect(parse('handler = "echo"\nremote = "http://r/"')).toThrow(
      "profiles.p.remote: set handler or remote, not both",
    );
  });

  test("each kind's own keys pass, with the defaults every receiver reads", () => {
    const c = parseConfig(
      '[profiles.c]\nhandler = "claude"\nworkdir = "w"\nmodel = "m"\n[profiles.a]\nhandler = "a2a"\nurl = "http://x/"\nca_file = "ca.pem"\n[profiles.r]\nremote = "http://r/"\nauth = "token"\n[profiles.l]\nhandler = "llm"\nbase_url = "http://m/"\ntemperature = 0.5\n',
      {},
      { file: "/etc/relay/c.toml", machine },
    );
    expect(c.profiles.c).toMatchObject({ workdir: "/etc/relay/w", model: "m", args: [], env: {} });
    expect(c.profiles.a).toMatchObject({ url: "http://x/", ca_file: "/etc/relay/ca.pem", protocol: "1.0" });
    expect(c.profiles.r).toMatchObject({ remote: "http://r/", auth: "token", binding: "auto" });
    expect(c.profiles.l?.temperature).toBe(0.5);
  });
});
