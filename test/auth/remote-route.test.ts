import { afterAll, beforeAll, expect, test } from "bun:test";
import { type AuthRelay, expectNoSecrets, message, rpcWith, startAuthRelay } from "./_relay.ts";

/**
 * A full route: relay A's profile `far` is `remote = B`, `auth = "jwt"`; B trusts A through
 * `jwt.jwks_url`. B must be configured before A's port is known, so B's jwks_url points at a
 * small forwarder that is aimed at A once A is up.
 */

let a: AuthRelay;
let b: AuthRelay;
let aUrl = "";
const forwarder = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => (aUrl ? fetch(`${aUrl}/.well-known/jwks.json`) : new Response("not yet", { status: 503 })),
});

beforeAll(async () => {
  b = await startAuthRelay({
    toml: `
[server]
id = "relay-b"
[profiles.echo]
handler = "echo"
[peers.relay-a]
profiles = ["echo"]
token_env = "RELAY_A_HAS_NO_STATIC_TOKEN"
[peers.relay-a.jwt]
jwks_url = "http://127.0.0.1:${forwarder.port}/jwks.json"
`,
  });
  a = await startAuthRelay({
    keygen: true,
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
});

afterAll(async () => {
  const logs = a.log() + b.log();
  await a.stop();
  await b.stop();
  forwarder.stop(true);
  expectNoSecrets(logs, [a.localToken, b.localToken]);
});

test('a remote route with auth = "jwt" reaches the other relay, keys exchanged through JWKS', async () => {
  for (const text of ["first turn", "second turn (a fresh JWT, no replay)"]) {
    const res = await rpcWith(
      a.url,
      `Bearer ${a.localToken}`,
      "SendMessage",
      { message: message(text) },
      "/a2a/far",
    );
    expect(res.status).toBe(200);
    const task = res.body.result?.task as unknown as {
      status: { state: string };
      artifacts?: Array<{ parts: Array<{ text?: string }> }>;
    };
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(JSON.stringify(task.artifacts)).toContain(text);
  }
  // B knows those tasks as peer relay-a's, not as its own local peer's.
  const mine = await rpcWith(b.url, `Bearer ${b.localToken}`, "ListTasks", {}, "/a2a");
  expect((mine.body.result as { tasks: unknown[] }).tasks).toHaveLength(0);
});
