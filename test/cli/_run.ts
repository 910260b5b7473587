import { main } from "../../src/cli/index.ts";
import type { CliIO } from "../../src/cli/io.ts";

export interface Ran {
  code: number;
  out: string;
  err: string;
}

/** A capturing CliIO: what a command prints, and nothing from the real process environment. */
export function captureIO(env: Record<string, string | undefined>, stop?: Promise<string>) {
  const got = { out: "", err: "" };
  const io: CliIO = {
    out: (t) => {
      got.out += t;
    },
    err: (t) => {
      got.err += t;
    },
    env,
    stopSignal: stop ?? new Promise<string>(() => {}),
  };
  return { io, got };
}

/** Run `a2a-relay ARGV` through `main`, as the binary would, with `env` as its environment. */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined>,
  stop?: Promise<string>,
): Promise<Ran> {
  const { io, got } = captureIO(env, stop);
  const code = await main(argv, io);
  return { code, ...got };
}

/** A loopback port nothing listens on: bind one, then let it go. */
export async function deadPort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = s.port as number;
  await s.stop(true);
  return port;
}
