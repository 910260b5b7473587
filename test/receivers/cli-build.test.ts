import { describe, expect, test } from "bun:test";
import { parseProfile } from "../../src/config/schema.ts";
import { agy } from "../../src/receivers/cli/agy.ts";
import { claude } from "../../src/receivers/cli/claude.ts";
import { codex } from "../../src/receivers/cli/codex.ts";
import { childEnv } from "../../src/receivers/cli/env.ts";
import { gemini } from "../../src/receivers/cli/gemini.ts";
import { opencode } from "../../src/receivers/cli/opencode.ts";
import type { BuildContext } from "../../src/receivers/cli/types.ts";
import { rolePreamble, withPreamble } from "../../src/receivers/preamble.ts";

function ctx(profile: Record<string, unknown>, session?: string): BuildContext {
  return {
    profile: "coder",
    config: parseProfile({ workdir: "/srv/repo", ...profile }),
    workdir: "/srv/repo",
    stateDir: "/data/cli/coder",
    prompt: "PROMPT",
    session: session ? { sessionId: session, updatedAt: 0 } : undefined,
    env: { MY_KEY: "sk-secret" },
    newId: () => "11111111-2222-4333-8444-555555555555",
  };
}

describe("command lines", () => {
  test("claude: --session-id on a new conversation, --resume after; endpoint and key by env", () => {
    const a = claude.build(
      ctx({
        handler: "claude",
        model: "sonnet",
        base_url: "http://127.0.0.1:9/",
        api_key_env: "MY_KEY",
        args: ["--max-turns", "5"],
      }),
    );
    expect(a.args).toEqual([
      "-p",
      "PROMPT",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "acceptEdits",
      "--session-id",
      "11111111-2222-4333-8444-555555555555",
      "--model",
      "sonnet",
      "--max-turns",
      "5",
    ]);
    expect(a).toMatchObject({ sessionId: "11111111-2222-4333-8444-555555555555", resumed: false, files: [] });
    expect(a.env).toMatchObject({
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9/",
      ANTHROPIC_API_KEY: "sk-secret",
      CLAUDE_CODE_MAX_RETRIES: "0",
    });
    const b = claude.build(ctx({ handler: "claude" }, "abc"));
    expect(b.args).toContain("--resume");
    expect(b.args).not.toContain("--session-id");
    expect(b.args[b.args.indexOf("--resume") + 1]).toBe("abc");
    expect(b.env.ANTHROPIC_API_KEY).toBeUndefined();
  });

  test("codex: flags before `resume <thread>`, prompt last; config.toml in a per-profile CODEX_HOME without the key", () => {
    const a = codex.build(
      ctx({ handler: "codex", model: "gpt-5.5", base_url: "http://127.0.0.1:9/v1", api_key_env: "MY_KEY" }),
    );
    expect(a.args).toEqual([
      "exec",
      "--json",
      "--skip-git-repo-check",
      "-s",
      "workspace-write",
      "-m",
      "gpt-5.5",
      "PROMPT",
    ]);
    expect(a.env.CODEX_HOME).toBe("/data/cli/coder/codex");
    expect(a.files[0]!.path).toBe("/data/cli/coder/codex/config.toml");
    expect(a.files[0]!.content).toContain('base_url = "http://127.0.0.1:9/v1"');
    expect(a.files[0]!.content).toContain('wire_api = "responses"');
    expect(a.files[0]!.content).not.toContain("sk-secret");
    expect(Object.values(a.env)).toContain("sk-secret");
    const b = codex.build(ctx({ handler: "codex" }, "thread-1"));
    expect(b.args.slice(-3)).toEqual(["resume", "thread-1", "PROMPT"]);
    expect(b.env.CODEX_HOME).toBeUndefined();
    expect(b.files).toEqual([]);
  });

  test("opencode: --session to resume; a provider config via OPENCODE_CONFIG reading the key from env", () => {
    const a = opencode.build(
      ctx(
        {
          handler: "opencode",
          model: "fake-model",
          base_url: "http://127.0.0.1:9/v1",
          api_key_env: "MY_KEY",
        },
        "ses_1",
      ),
    );
    expect(a.args).toEqual([
      "run",
      "--format",
      "json",
      "--session",
      "ses_1",
      "-m",
      "relay/fake-model",
      "PROMPT",
    ]);
    expect(a.env.OPENCODE_CONFIG).toBe("/data/cli/coder/opencode/opencode.json");
    const conf = JSON.parse(a.files[0]!.content);
    expect(conf.provider.relay.options.baseURL).toBe("http://127.0.0.1:9/v1");
    expect(conf.provider.relay.options.apiKey).toBe("{env:A2A_RELAY_OPENCODE_API_KEY}");
    expect(conf.provider.relay.options.headerTimeout).toBe(300_000);
    expect(conf.provider.relay.models["fake-model"].tool_call).toBe(true);
    expect(a.env.A2A_RELAY_OPENCODE_API_KEY).toBe("sk-secret");
    const b = opencode.build(ctx({ handler: "opencode", model: "anthropic/claude" }));
    expect(b.args).toEqual(["run", "--format", "json", "-m", "anthropic/claude", "PROMPT"]);
    expect(b.files).toEqual([]);
  });

  test("gemini: --session-id then --resume; API-key auth selected in a per-profile GEMINI_CLI_HOME", () => {
    const a = gemini.build(ctx({ handler: "gemini", base_url: "http://127.0.0.1:9", api_key_env: "MY_KEY" }));
    expect(a.args).toContain("--session-id");
    expect(a.args).toContain("auto_edit");
    expect(a.env).toMatchObject({
      GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9",
      GEMINI_API_KEY: "sk-secret",
      GEMINI_CLI_TRUST_WORKSPACE: "true",
    });
    expect(a.env.GEMINI_CLI_HOME).toBe("/data/cli/coder/gemini");
    expect(a.files[0]!.path).toBe("/data/cli/coder/gemini/.gemini/settings.json");
    expect(JSON.parse(a.files[0]!.content).security.auth.selectedType).toBe("gemini-api-key");
    const b = gemini.build(ctx({ handler: "gemini" }, "u-1"));
    expect(b.args.slice(b.args.indexOf("--resume"), b.args.indexOf("--resume") + 2)).toEqual([
      "--resume",
      "u-1",
    ]);
    expect(b.files).toEqual([]);
  });

  test("agy: a conversation uuid, the workdir as the added dir, the turn cap as print timeout", () => {
    const a = agy.build(ctx({ handler: "agy", turn_timeout_s: 90 }));
    expect(a.args).toEqual([
      "--conversation",
      "11111111-2222-4333-8444-555555555555",
      "--print",
      "PROMPT",
      "--dangerously-skip-permissions",
      "--add-dir",
      "/srv/repo",
      "--print-timeout",
      "90s",
    ]);
    expect(agy.build(ctx({ handler: "agy" }, "conv-9")).args[1]).toBe("conv-9");
  });
});

describe("environment", () => {
  test("only the allow-list passes from the relay; the adapter's then the profile's env win", () => {
    const env = childEnv(
      {
        PATH: "/bin",
        HOME: "/root",
        A2A_OC_TOKEN_X: "relay-secret",
        AWS_SECRET_ACCESS_KEY: "x",
        LANG: "C.UTF-8",
      },
      { DISABLE_TELEMETRY: "1", HOME: "/adapter" },
      { HOME: "/profile-home", EXTRA: "1" },
    );
    expect(env).toEqual({
      PATH: "/bin",
      HOME: "/profile-home",
      LANG: "C.UTF-8",
      DISABLE_TELEMETRY: "1",
      EXTRA: "1",
    });
  });
});

describe("role preamble", () => {
  const p = {
    peer: "hermes-main",
    profile: "coder",
    workdir: "/srv/repo",
    origin: "a2a" as const,
    taskId: "t1",
    contextId: "c1",
  };
  test("names the peer, the profile, the workdir and how to answer", () => {
    const text = rolePreamble(p);
    expect(text).toContain('the agent "hermes-main", over the A2A protocol');
    expect(text).toContain('profile "coder" in /srv/repo');
    expect(text).toContain("final message is the only thing sent back");
    expect(text).toContain("task t1, conversation c1");
  });
  test("a local turn says so; the message follows the preamble", () => {
    expect(rolePreamble({ ...p, origin: "local", peer: "local" })).toContain("a user on this host");
    const full = withPreamble(p, "fix the bug");
    expect(full.startsWith(rolePreamble(p))).toBe(true);
    expect(full.endsWith('--- message from "hermes-main" ---\nfix the bug')).toBe(true);
  });
});
