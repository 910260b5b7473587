import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Task as SdkTask, SendMessageRequest } from "@a2a-js/sdk";
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { BINARY, ensureBinary, type RelayProcess, startBinary, stopAll } from "../helpers/binary.ts";
import { b64url } from "./_keys.ts";
import { expectNoSecrets, message, rpcWith } from "./_relay.ts";

/**
 * End to end against the compiled binary: the SDK client with a static token (env chain, file)
 * and with a JWT from `a2a-relay token mint`; relay A calling relay B over a `remote` route with
 * `auth = "jwt"` (B reads A's key from A's JWKS); bad credentials refused.
 */

const ENV_TOKEN = "bin-env-chain-token-0123456789abcdef";
const FILE_TOKEN = "bin-file-token-0123456789abcdef0123";
const secrets = new Set([ENV_TOKEN, FILE_TOKEN]);
const tmp = mkdtempSync(join(tmpdir(), "a2a-relay-authbin-"));
let a: RelayProcess;
let b: RelayProcess;
let aUrl = "";
const forwarder = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => (aUrl ? fetch(`${aUrl}/.well-known/jwks.json`) : new Response("not yet", { status: 503 })),
});

function bin(...args: string[]): string {
  const r = spawnSync(BINARY, args, { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH } });
  if (r.status !== 0) throw new Error(`a2a-relay ${args[0]} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  await ensureBinary();
  const dataB = join(tmp, "b");
  const dataA = join(tmp, "a");
  bin("keygen", "--data-dir", dataB);
  bin("keygen", "--data-dir", dataA);
  const tokenFile = join(tmp, "secrets", "file-peer.token");
  mkdirSync(join(tmp, "secrets"), { recursive: true });
  writeFileSync(tokenFile, `${FILE_TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  b = await startBinary({
    dataDir: dataB,
    env: { A2A_OC_TOKEN_ENV_PEER: ENV_TOKEN },
    toml: `
[server]
id = "relay-b"
[profiles.echo]
handler = "echo"
[peers.env-peer]
profiles = ["echo"]
[peers.file-peer]
profiles = ["echo"]
token_file = "${tokenFile}"
[peers.scripts]
token_env = "SCRIPTS_NO_STATIC"
[peers.scripts.jwt]
public_key_file = "${join(dataB, "keys", "relay.pub.pem")}"
[peers.relay-a]
profiles = ["echo"]
token_env = "RELAY_A_NO_STATIC"
[peers.relay-a.jwt]
jwks_url = "http://127.0.0.1:${forwarder.port}/jwks.json"
`,
  });
  a = await startBinary({
    dataDir: dataA,
    toml: `
[server]
id = "relay-a"
[profiles.far]
remote = "${b.url}"
remote_profile = "echo"
auth = "jwt"
`,
  });
  aUrl = a.url;
  secrets.add(a.token).add(b.token);
}, 180_000);

afterAll(async () => {
  await stopAll(); // log lines are written in batches: all of them are out once the process exits
  const output = [a, b].map((r) => (r ? r.stdout() + r.stderr() : "")).join("\n");
  forwarder.stop(true);
  rmSync(tmp, { recursive: true, force: true });
  expectNoSecrets(output, secrets);
});

async function sdkSend(base: string, authorization: string, text: string) {
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
  const client = await factory.createFromUrl(base);
  const res = await client.sendMessage(
    SendMessageRequest.fromJSON({
      message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] },
    }),
  );
  // biome-ignore lint/suspicious/noExplicitAny: JSON for assertions
  return SdkTask.toJSON(res as SdkTask) as any;
}

describe("compiled binary", () => {
  test("SDK client with a static token from A2A_OC_TOKEN_<SLUG>", async () => {
    const t = await sdkSend(`${b.url}/a2a/echo/`, `Bearer ${ENV_TOKEN}`, "bin env");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("SDK client with a static token from a 0600 token file", async () => {
    const t = await sdkSend(`${b.url}/a2a/echo/`, `Bearer ${FILE_TOKEN}`, "bin file");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("SDK client with a JWT from `a2a-relay token mint`", async () => {
    const jwt = bin("token", "mint", "--peer", "scripts", "--aud", "relay-b", "--data-dir", b.dataDir).trim();
    secrets.add(jwt);
    const t = await sdkSend(`${b.url}/a2a/echo/`, `Bearer ${jwt}`, "bin jwt");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    // single use: the same JWT again is a replay
    expect((await rpcWith(b.url, `Bearer ${jwt}`, "SendMessage", { message: message("again") })).status).toBe(
      401,
    );
  });

  test('relay A reaches relay B over a remote route with auth = "jwt" (keys through JWKS)', async () => {
    const t = await sdkSend(`${a.url}/a2a/far/`, `Bearer ${a.token}`, "across relays");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(JSON.stringify(t.artifacts)).toContain("across relays");
  });

  test("bad credentials are 401 with WWW-Authenticate", async () => {
    const now = Math.floor(Date.now() / 1000);
    const none = `${b64url({ alg: "none" })}.${b64url({ iss: "scripts", aud: "relay-b", iat: now, exp: now + 60, jti: "n" })}.`;
    for (const auth of [
      undefined,
      "Bearer ",
      `Basic ${ENV_TOKEN}`,
      `Bearer ${none}`,
      "Bearer a.b.c",
      "Bearer nope",
    ]) {
      const res = await rpcWith(b.url, auth, "SendMessage", { message: message("x") });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
    }
  });
});
