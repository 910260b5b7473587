import { join } from "node:path";

/** The stand-in queued receiver (`queued-receiver.ts`) as a process of its own. */
export interface QueuedReceiver {
  url: string;
  log(): Promise<{
    received: Array<{ text: string; contextId: string; auth: string | null }>;
    postbacks: Array<{ contextId: string; text: string; status: number | string }>;
  }>;
  /** Post back a held (`hold …`) reply now; false when nothing was held for that context. */
  release(contextId: string): Promise<boolean>;
  stop(): void;
}

export async function startQueuedReceiver(opts: {
  hermesUrl: string;
  token?: string;
  delayMs?: number;
}): Promise<QueuedReceiver> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "queued-receiver.ts")], {
    env: {
      ...process.env,
      HERMES_URL: opts.hermesUrl,
      ...(opts.token ? { HERMES_TOKEN: opts.token } : {}),
      DELAY_MS: String(opts.delayMs ?? 50),
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!text.includes("\n")) {
    if (Date.now() > deadline) throw new Error("the queued receiver did not start within 10 s");
    const { done, value } = await reader.read();
    if (done) throw new Error(`the queued receiver exited before printing its URL: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { url } = JSON.parse(text.split("\n")[0]!) as { url: string };
  return {
    url,
    log: async () => (await fetch(`${url}/control/log`)).json() as ReturnType<QueuedReceiver["log"]>,
    async release(contextId) {
      const res = await fetch(`${url}/control/release`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ contextId }),
      });
      return ((await res.json()) as { released: boolean }).released;
    },
    stop: () => proc.kill(),
  };
}
