import { currentRuntime } from "../../src/runtime/index.ts";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";
import type { Json } from "./_sdk.ts";

/** A relay in this process for routing tests: test/helpers/relay.ts with a config always given. */
export type RoutingRelay = TestRelay;

export function startRoutingRelay(o: {
  toml: string;
  env?: Record<string, string>;
  port?: number;
  dir?: string;
}): Promise<RoutingRelay> {
  return startTestRelay(o);
}

/**
 * Host B of the two-relay suites: an `echo` profile that peer `host-a` reaches with the pair's
 * token, and a 0.5 s keepalive (a relay in front takes 1.5 s of silence for a dead connection).
 */
export function startHostB(pairToken: string): Promise<RoutingRelay> {
  return startRoutingRelay({
    env: { A2A_OC_TOKEN_HOST_A: pairToken },
    toml: `
[server]
id = "host-b"
keepalive_s = 0.5
shutdown_grace_s = 1
[peers.host-a]
profiles = ["*"]
[profiles.echo]
handler = "echo"
`,
  });
}

/**
 * Host A of the two-relay suites: profile `far` forwards to host B's `echo` at `far` (a proxy in
 * front of B), with a 1 s connect timeout and shutdown grace; `more` adds profiles.
 */
export function hostAToml(far: string, more = ""): string {
  return `
[server]
id = "host-a"
connect_timeout_s = 1
shutdown_grace_s = 1
[profiles.far]
remote = "${far}"
remote_profile = "echo"
auth = "token"
${more}`;
}

/** A port that was free a moment ago (for configs that must name a relay before it starts). */
export function freePort(): number {
  const l = currentRuntime().serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = l.port;
  void l.stop(true);
  return port;
}

export { userMessage as v1Message, userMessageV03 as v03Message } from "../helpers/messages.ts";

/** Parse an SSE body into its `data:` JSON payloads. */
export function sseData(text: string): Json[] {
  return text
    .split("\n\n")
    .map((b) =>
      b
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n"),
    )
    .filter(Boolean)
    .map((d) => JSON.parse(d));
}
