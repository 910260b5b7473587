// One-off probes: cold start of the binary and time to the first event of a streamed task.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./lib.ts";

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
    const child = spawn(bin, ["serve", "--port", "0", "--data-dir", data], {
      env: { ...process.env, A2A_RELAY_LOCK_DIR: join(dir, "locks") },
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error("cold start: no banner within 10 s")), 10_000);
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const token = readFileSync(join(data, "tokens", "local.token"), "utf8").trim();
      const res = await fetch(`${url}/a2a/echo`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "a2a-version": "1.0",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "SendMessage",
          params: {
            message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "cold" }] },
          },
        }),
      });
      const body = (await res.json()) as { result?: { task?: { status?: { state?: string } } } };
      if (body.result?.task?.status?.state !== "TASK_STATE_COMPLETED")
        throw new Error("cold start: no completed task");
      all.push(performance.now() - t0);
    } finally {
      child.kill("SIGKILL");
    }
  }
  return { median: median(all), all };
}

/** Median time from sending SendStreamingMessage to receiving its first SSE event. */
export async function firstEventMs(
  url: string,
  token: string,
  runs: number,
): Promise<{ median: number; p90: number }> {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendStreamingMessage",
        params: {
          message: {
            messageId: crypto.randomUUID(),
            role: "ROLE_USER",
            parts: [{ text: "sleep:20 streamed" }],
          },
        },
      }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    all.push(performance.now() - t0);
    while (!(await reader.read()).done) {
      // drain to the end of the stream
    }
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { median: median(all), p90: sorted[Math.floor(sorted.length * 0.9)]! };
}
