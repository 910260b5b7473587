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
