import { BUN, ROOT } from "./_relays.ts";

/**
 * Two network namespaces joined by a veth pair: "host A" 10.77.0.1/24 and "host B" 10.77.0.2/24.
 * The addresses exist only inside the namespaces. Needs root and iproute2; `create` throws with
 * the reason when that is not possible (callers fail loudly, they do not skip).
 */
export interface NetnsPair {
  a: string;
  b: string;
  addrA: string;
  addrB: string;
  remove(): void;
}

export function createNetnsPair(): NetnsPair {
  const tag = Math.random().toString(36).slice(2, 7);
  const a = `a2a-pa-${tag}`;
  const b = `a2a-pb-${tag}`;
  const va = `a2ava${tag}`;
  const vb = `a2avb${tag}`;
  const pair: NetnsPair = {
    a,
    b,
    addrA: "10.77.0.1",
    addrB: "10.77.0.2",
    remove() {
      // deleting a namespace also deletes the veth end inside it (and so the pair)
      for (const ns of [a, b])
        Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore", stdout: "ignore" });
    },
  };
  const steps = [
    ["ip", "netns", "add", a],
    ["ip", "netns", "add", b],
    ["ip", "link", "add", va, "type", "veth", "peer", "name", vb],
    ["ip", "link", "set", va, "netns", a],
    ["ip", "link", "set", vb, "netns", b],
    ["ip", "-n", a, "addr", "add", `${pair.addrA}/24`, "dev", va],
    ["ip", "-n", b, "addr", "add", `${pair.addrB}/24`, "dev", vb],
    ["ip", "-n", a, "link", "set", "lo", "up"],
    ["ip", "-n", b, "link", "set", "lo", "up"],
    ["ip", "-n", a, "link", "set", va, "up"],
    ["ip", "-n", b, "link", "set", vb, "up"],
  ];
  for (const cmd of steps) {
    let r: ReturnType<typeof Bun.spawnSync>;
    try {
      r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    } catch (err) {
      pair.remove();
      throw new Error(
        `cannot create network namespaces: \`${cmd.join(" ")}\` could not run (${err instanceof Error ? err.message : err}); this test needs root and iproute2 (.ci/run installs it)`,
      );
    }
    if (r.exitCode !== 0) {
      pair.remove();
      throw new Error(
        `cannot create network namespaces: \`${cmd.join(" ")}\` exited ${r.exitCode}: ${r.stderr?.toString().trim()}; this test needs root (uid ${process.getuid?.()}) and iproute2`,
      );
    }
  }
  return pair;
}

/** A `_fleet-node.ts` process inside a namespace, driven over stdin/stdout, one request at a time. */
export interface FleetNode {
  url: string;
  call(cmd: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startFleetNode(netns: string, token: string): Promise<FleetNode> {
  const proc = Bun.spawn(["ip", "netns", "exec", netns, BUN, `${ROOT}/test/peering/_fleet-node.ts`, token], {
    cwd: ROOT,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  let waiter: (() => void) | undefined;
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true });
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      waiter?.();
    }
    waiter?.();
  })();
  const next = async (timeoutMs: number): Promise<unknown> => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.length) {
      if (Date.now() > deadline || proc.exitCode !== null) {
        const err = await new Response(proc.stderr as ReadableStream).text().catch(() => "");
        throw new Error(
          `fleet node in ${netns}: no answer within ${timeoutMs} ms (exit ${proc.exitCode}) ${err}`,
        );
      }
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 50);
      });
    }
    return JSON.parse(lines.shift()!);
  };
  const hello = (await next(15_000)) as { url: string };
  return {
    url: hello.url,
    async call(cmd, timeoutMs = 25_000) {
      (proc.stdin as import("bun").FileSink).write(`${JSON.stringify(cmd)}\n`);
      (proc.stdin as import("bun").FileSink).flush();
      return next(timeoutMs);
    },
    async stop() {
      try {
        (proc.stdin as import("bun").FileSink).end();
      } catch {
        // gone
      }
      const code = await Promise.race([proc.exited, Bun.sleep(3000).then(() => undefined)]);
      if (code === undefined) proc.kill("SIGKILL");
    },
  };
}
