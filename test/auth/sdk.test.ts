import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Task as SdkTask, SendMessageRequest } from "@a2a-js/sdk";
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { type AuthRelay, cli, expectNoSecrets, startAuthRelay } from "./_relay.ts";

/** The official SDK client against an in-process relay, authenticating three ways. */

const AUD = "sdk-relay";
const ENV_TOKEN = "env-chain-token-0123456789abcdef";
const FILE_TOKEN = "file-token-0123456789abcdef0123";
const secrets = new Set([ENV_TOKEN, FILE_TOKEN]);
let r: AuthRelay;

beforeAll(async () => {
  r = await startAuthRelay({
    keygen: true,
    toml: `
[server]
id = "${AUD}"
[profiles.echo]
handler = "echo"
[profiles.echo2]
handler = "echo"

[peers.env-peer]
profiles = ["echo"]

[peers.file-peer]
profiles = ["echo"]
token_file = "secrets/file-peer.token"

[peers.scripts]
profiles = ["*"]
token_env = "SCRIPTS_HAS_NO_STATIC_TOKEN"
[peers.scripts.jwt]
public_key_file = "data/keys/relay.pub.pem"
`,
    env: { A2A_OC_TOKEN_ENV_PEER: ENV_TOKEN },
    files: { "secrets/file-peer.token": { content: `${FILE_TOKEN}\n`, mode: 0o600 } },
  });
  secrets.add(r.localToken);
});

afterAll(async () => {
  const log = r.log();
  await r.stop();
  expectNoSecrets(log, secrets);
});

async function sdkSend(authorization: string, text: string, profile = "echo") {
  const fetchImpl: typeof fetch = Object.assign(
    (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set("authorization", authorization);
      return fetch(input, { ...init, headers });
    },
    { preconnect: fetch.preconnect },
  );
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
    }),
  );
  const client = await factory.createFromUrl(`${r.url}/a2a/${profile}/`);
  const res = await client.sendMessage(
    SendMessageRequest.fromJSON({
      message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] },
    }),
  );
  // biome-ignore lint/suspicious/noExplicitAny: JSON for assertions
  return SdkTask.toJSON(res as SdkTask) as any;
}

async function mint(...extra: string[]): Promise<string> {
  const m = await cli([
    "token",
    "mint",
    "--peer",
    "scripts",
    "--aud",
    AUD,
    "--data-dir",
    r.dataDir,
    ...extra,
  ]);
  expect(m.code).toBe(0);
  const token = m.out.trim();
  secrets.add(token);
  return token;
}

describe("the SDK client authenticates", () => {
  test("with a static token from the env chain (A2A_OC_TOKEN_<SLUG>)", async () => {
    const t = await sdkSend(`Bearer ${ENV_TOKEN}`, "via env");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("via env");
  });

  test("with a static token from a 0600 token file", async () => {
    const t = await sdkSend(`Bearer ${FILE_TOKEN}`, "via file");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("with a JWT from `a2a-relay token mint`", async () => {
    const t = await sdkSend(`Bearer ${await mint("--ttl", "120")}`, "via jwt");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("via jwt");
  });

  test("a minted --profiles claim narrows: the same peer is refused on another profile", async () => {
    const err = await sdkSend(`Bearer ${await mint("--profiles", "echo")}`, "x", "echo2").catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).toContain("may not use profile");
    const ok = await sdkSend(`Bearer ${await mint("--profiles", "echo")}`, "y", "echo");
    expect(ok.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("a wrong token fails in the SDK as an error, not a hang", async () => {
    const err = await sdkSend("Bearer wrong-token-0123456789", "x").catch((e) => e);
    expect(err).toBeInstanceOf(Error);
  });
});
