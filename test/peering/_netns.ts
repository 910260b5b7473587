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

/**
 * Two "hosts" whose data link can fail the ways real networks do, plus a control link from the
 * test's own namespace to each (so the test can watch both sides while the data link is dark).
 * Data: A 10.77.0.1 <-> B 10.77.0.2 (veth). Control: root 10.78.0.1 <-> A 10.78.0.2, root
 * 10.79.0.1 <-> B 10.79.0.2. The data link goes silent with a `pfifo limit 0` queue on both ends
 * (every packet dropped, links up: no reset, no ICMP); `rate` puts a token bucket (tbf) there.
 */
export interface LinkedHosts extends NetnsPair {
  /** Where the test reaches host A / host B (control link). */
  ctlA: string;
  ctlB: string;
  /** Drop every packet on the A<->B link (true) or pass them again (false). */
  silence(on: boolean): void;
  /** Limit the A<->B link to `rate` (tc syntax, e.g. "256kbit"); undefined lifts it. */
  rate(rate: string | undefined): void;
  /** Bytes host B has sent to host A over the data link (its queue's counter). */
  sentByB(): number;
}

export function createLinkedHosts(): LinkedHosts {
  const pair = createNetnsPair();
  const tag = pair.a.slice(-5);
  const links = [
    { ns: pair.a, root: `a2ac${tag}`, peer: `a2acp${tag}`, net: "10.78.0" },
    { ns: pair.b, root: `a2ad${tag}`, peer: `a2adp${tag}`, net: "10.79.0" },
  ];
  const run = (cmd: string[]) => {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0)
      throw new Error(`\`${cmd.join(" ")}\` exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
    return r.stdout.toString();
  };
  try {
    for (const l of links) {
      run(["ip", "link", "add", l.root, "type", "veth", "peer", "name", l.peer]);
      run(["ip", "link", "set", l.peer, "netns", l.ns]);
      run(["ip", "addr", "add", `${l.net}.1/24`, "dev", l.root]);
      run(["ip", "-n", l.ns, "addr", "add", `${l.net}.2/24`, "dev", l.peer]);
      run(["ip", "link", "set", l.root, "up"]);
      run(["ip", "-n", l.ns, "link", "set", l.peer, "up"]);
    }
  } catch (err) {
    pair.remove();
    throw err;
  }
  const [va, vb] = [`a2ava${tag}`, `a2avb${tag}`];
  const qdisc = (ns: string, dev: string, spec: string[] | undefined) => {
    Bun.spawnSync(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"], {
      stdout: "ignore",
      stderr: "ignore",
    });
    if (spec) run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", ...spec]);
  };
  return {
    ...pair,
    ctlA: "10.78.0.2",
    ctlB: "10.79.0.2",
    silence(on) {
      qdisc(pair.a, va, on ? ["pfifo", "limit", "0"] : undefined);
      qdisc(pair.b, vb, on ? ["pfifo", "limit", "0"] : undefined);
    },
    rate(rate) {
      const spec = rate ? ["tbf", "rate", rate, "burst", "16kb", "latency", "2s"] : undefined;
      qdisc(pair.a, va, spec);
      qdisc(pair.b, vb, spec);
    },
    sentByB() {
      const out = run(["ip", "netns", "exec", pair.b, "tc", "-s", "qdisc", "show", "dev", vb]);
      return Number(/Sent (\d+) bytes/.exec(out)?.[1] ?? 0);
    },
    remove() {
      pair.remove();
      // the root ends go with their peers in the deleted namespaces; make sure
      for (const l of links)
        Bun.spawnSync(["ip", "link", "del", l.root], { stdout: "ignore", stderr: "ignore" });
    },
  };
}
