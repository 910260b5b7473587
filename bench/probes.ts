// One-off probes: cold start of the binary and time to the first event of a streamed task.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { median, sendEcho, spawnServe } from "./lib.ts";

/** Median time from spawning the binary on an empty data dir to its first completed SendMessage. */
export async function coldStartMs(
  bin: string,
  dir: string,
  runs: number,
): Promise<{ median: number; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const data = join(dir, String(i));
    const t0 = performance.now();
    const { child, banner } = spawnServe(bin, data, join(dir, "locks"));
    try {
      const url = await banner;
      const token = readFileSync(join(data, "tokens", "local.token"), "utf8").trim();
      await sendEcho(url, token, "cold", "cold start");
      all.push(performance.now() - t0);
    } finally {
      child.kill("SIGKILL");
    }
  }
  return { median: median(all), all };
}

/**
 * Median time from sending SendStreamingMessage to the first event *the agent* produced: an
 * artifact, a status update with a message (progress or answer), or a Message. The relay's own
 * frames (its `: stream open` comment, the task snapshot, its bare WORKING) do not count: they
 * say nothing about how fast the agent's work reaches the caller.
 */
export async function firstEventMs(
  url: string,
  token: string | undefined,
  runs: number,
  text = "sleep:20 streamed",
): Promise<{ median: number; p90: number }> {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendStreamingMessage",
        params: { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] } },
      }),
    });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    let at: number | undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      for (let cut = buf.indexOf("\n\n"); cut >= 0 && at === undefined; cut = buf.indexOf("\n\n")) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = frame
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5))
          .join("\n");
        if (data && fromAgent(JSON.parse(data))) at = performance.now() - t0;
      }
    }
    if (at === undefined) throw new Error(`first event: ${url} streamed no event from the agent`);
    all.push(at);
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { median: median(all), p90: sorted[Math.floor(sorted.length * 0.9)]! };
}

// biome-ignore lint/suspicious/noExplicitAny: an SSE event's JSON-RPC envelope
function fromAgent(envelope: any): boolean {
  const r = envelope?.result;
  return !!(r?.artifactUpdate || r?.message || r?.statusUpdate?.status?.message);
}
