import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/index.ts";
import { startSdk03Agent } from "../helpers/sdk03-agent.ts";
import { cli } from "./_run.ts";
import { runCli } from "./_serve.ts";

/** `doctor` and `config check`: one line per problem, naming what to fix; exit 2 on a failure. */

let dir: string;
let card: ReturnType<typeof Bun.serve>;
let env: Record<string, string>;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "a2a-relay-doctor-"));
  env = { HOME: dir, A2A_RELAY_LOCK_DIR: join(dir, "locks"), PATH: process.env.PATH ?? "" };
  // an upstream relay's card: its name is the relay id the outbound token is named after
  card = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ name: "host-b" }) });
});
afterAll(() => {
  card.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** Write a config (with its own data dir) and run a command on it. */
function config(toml: string): { file: string; data: string } {
  const d = join(dir, `c${++n}`);
  mkdirSync(d);
  const file = join(d, "relay.toml");
  writeFileSync(file, `[server]\nid = "host-a"\nport = "auto"\ndata_dir = "data"\n${toml}`);
  return { file, data: join(d, "data") };
}

test("a healthy config: every line ok, exit 0 (as a process)", async () => {
  const { file } = config(`[profiles.echo]\nhandler = "echo"\n`);
  const r = await runCli(["doctor", "--config", file], env);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  expect(r.out).toContain("ok    config");
  expect(r.out).toContain("port auto in band relay");
  expect(r.out).toContain("free");
  expect(r.out).not.toMatch(/^fail/m);
});

describe("each broken case fails, naming what to fix", () => {
  test("a remote with auth = token and no A2A_OC_TOKEN_<remote id>", async () => {
    const { file } = config(
      `[profiles.far]\nremote = "http://127.0.0.1:${card.port}"\nremote_profile = "echo"\nauth = "token"\n`,
    );
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(
      /^fail {2}profile far: auth = "token" to relay "host-b" needs A2A_OC_TOKEN_HOST_B/m,
    );
    const ok = await cli(["doctor", "--config", file], { ...env, A2A_OC_TOKEN_HOST_B: "t" });
    expect(ok.code).toBe(0);
  });

  test("auth = jwt without this relay's signing key", async () => {
    const { file, data } = config(
      `[profiles.far]\nremote = "http://127.0.0.1:${card.port}"\nremote_profile = "echo"\nauth = "jwt"\n`,
    );
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`profile far: auth = "jwt" needs this relay's signing key`);
    expect(r.out).toContain(`→ a2a-relay keygen --data-dir ${data}`);
  });

  test("a coding CLI that is not installed", async () => {
    const { file } = config(
      `[profiles.coder]\nhandler = "claude"\nworkdir = "."\ncommand = "/nonexistent/claude"\n`,
    );
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`profile coder: handler claude: "/nonexistent/claude" is not installed`);
  });

  test("a token file other users can read: doctor and config check both refuse it", async () => {
    const { file } = config(
      `[profiles.echo]\nhandler = "echo"\n[peers.ci]\nprofiles = ["echo"]\ntoken_file = "ci.token"\n`,
    );
    const tf = join(file, "..", "ci.token");
    writeFileSync(tf, "secret-ci-token\n");
    chmodSync(tf, 0o644);
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain("peer ci: no usable credential");
    expect(r.out).toContain(`→ chmod 600 ${tf}`);
    const check = await cli(["config", "check", "--config", file], env);
    expect(check.code).toBe(2);
    expect(check.out).toContain("config NOT OK");
    expect(check.out).toContain(`chmod 600 ${tf}`);
    expect(check.out + check.err).not.toContain("secret-ci-token");
  });

  test("an upstream whose card cannot be fetched", async () => {
    const { file } = config(`[profiles.up]\nhandler = "a2a"\nurl = "http://127.0.0.1:9/jsonrpc"\n`);
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      "profile up: upstream card http://127.0.0.1:9/.well-known/agent-card.json unreachable",
    );
  });

  test("an agent on the SDK's 0.2 server: its card is read at agent.json, the name it has there", async () => {
    const agent = await startSdk03Agent({ sdk: "0.2" });
    try {
      const { file } = config(`[profiles.old]\nhandler = "a2a"\nurl = "${agent.rpcUrl}"\nprotocol = "0.3"\n`);
      const r = await cli(["doctor", "--config", file], env);
      expect(r.out).toContain(
        `ok    profile old: upstream card ${agent.url}/.well-known/agent.json (sdk-v03-echo)`,
      );
      expect(r.code).toBe(0);
    } finally {
      await agent.stop();
    }
  });

  test("a fixed port something else listens on", async () => {
    const { file } = config(`[profiles.echo]\nhandler = "echo"\n`);
    writeFileSync(file, `[server]\nhost = "127.0.0.1"\nport = ${card.port}\ndata_dir = "data"\n`);
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`cannot listen on 127.0.0.1:${card.port}`);
  });

  test("a broken config file: one fail line naming the file", async () => {
    const { file } = config(`[profiles.echo]\nhandler = "echo"\n`);
    writeFileSync(file, `[server]\nport = \n`);
    const r = await cli(["doctor", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`fail  config error in ${file}: not valid TOML at line 2, column`);
  });
});

describe("errors that point at the fix", () => {
  test("TOML errors give line and column; unknown keys get a did-you-mean", async () => {
    const { file } = config("");
    writeFileSync(file, `[server]\nid = "a"\nhost = "127.0.0.1\n`);
    const bad = await cli(["config", "check", "--config", file], env);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not valid TOML at line 3, column \d+/);
    writeFileSync(file, `[server]\nprot = 9200\n[profiles.echo]\nhandler = "echo"\nworkdri = "."\n`);
    const typo = await cli(["config", "check", "--config", file], env);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain("unknown key(s): prot (did you mean port?)");
    expect(typo.err).toContain("workdri (did you mean workdir?)");
  });

  test("unknown commands and flags get a did-you-mean", async () => {
    const cmd = await cli(["sned", "echo", "hi"], env);
    expect(cmd.code).toBe(2);
    expect(cmd.err).toContain('did you mean "send"?');
    const flag = await cli(["send", "echo", "hi", "--rely", "x"], env);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("did you mean --relay?");
  });

  test("every command's --help lists its flags and an example", async () => {
    for (const c of COMMANDS) {
      const r = await cli([c.name, "--help"], env);
      expect({ name: c.name, code: r.code }).toEqual({ name: c.name, code: 0 });
      expect({ name: c.name, flags: /--[a-z]/.test(r.out) }).toEqual({ name: c.name, flags: true });
      expect({ name: c.name, example: /Examples?:/.test(r.out) }).toEqual({ name: c.name, example: true });
    }
  });
});
