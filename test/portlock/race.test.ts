import { afterEach, expect, test } from "bun:test";
import { listLeases } from "../../src/portlock/index.ts";
import { killAll, type Sandbox, type Serve, sandbox, serve, withTimeout } from "./_procs.ts";

/**
 * Many `serve --port auto --band hermes --name pN` processes started together. The default run
 * does a few rounds; `npm run test:race` sets A2A_RACE_ROUNDS=30.
 */

const ROUNDS = Number(process.env.A2A_RACE_ROUNDS ?? 3);
const PER_ROUND_MS = 120_000;

let running: Serve[] = [];
let boxes: Sandbox[] = [];
afterEach(async () => {
  await killAll(running);
  for (const b of boxes) b.cleanup();
  running = [];
  boxes = [];
});

test(
  `race: 16 instances at once get 16 distinct ports, each answering with its own name (${ROUNDS} rounds)`,
  async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const sb = await sandbox(20);
      boxes.push(sb);
      const procs = Array.from({ length: 16 }, (_, i) => serve(sb, `p${i}`));
      running.push(...procs);
      const bound = await withTimeout(Promise.all(procs.map((p) => p.ready)), PER_ROUND_MS, "16 starts");
      const failed = procs.filter((_, i) => !bound[i]).map((p) => `${p.name}: ${p.stderr()}`);
      expect(failed).toEqual([]);
      const ports = bound.map((b) => b!.port);
      expect(new Set(ports).size).toBe(16);
      for (const p of ports) expect(p >= sb.first && p <= sb.last).toBe(true);
      const names = await Promise.all(
        bound.map(async (b) => ((await (await fetch(`${b!.url}/healthz`)).json()) as { name: string }).name),
      );
      expect(names).toEqual(procs.map((p) => p.name));
      const leases = listLeases(sb.lockDir);
      expect(leases.map((l) => `${l.name}@${l.port}`).sort()).toEqual(
        procs.map((p, i) => `${p.name}@${ports[i]}`).sort(),
      );
      const codes = await Promise.all(procs.map((p) => p.stop()));
      expect(codes).toEqual(procs.map(() => 0));
      expect(listLeases(sb.lockDir)).toEqual([]); // released on SIGTERM
      running = [];
      sb.cleanup();
      boxes = [];
    }
  },
  ROUNDS * PER_ROUND_MS + 30_000,
);

test("race: 12 instances on a 10-port band: 10 serve, 2 exit 2 with the band-full error", async () => {
  const sb = await sandbox(10);
  boxes.push(sb);
  const procs = Array.from({ length: 12 }, (_, i) => serve(sb, `q${i}`));
  running.push(...procs);
  const bound = await withTimeout(Promise.all(procs.map((p) => p.ready)), PER_ROUND_MS, "12 starts");
  const serving = procs.filter((_, i) => bound[i]);
  const refused = procs.filter((_, i) => !bound[i]);
  expect(serving.length).toBe(10);
  expect(new Set(bound.filter(Boolean).map((b) => b!.port)).size).toBe(10);
  expect(refused.length).toBe(2);
  for (const r of refused) {
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain(`no free port in band hermes (${sb.first}-${sb.last})`);
    expect(r.stderr()).toContain("BAND_FULL");
    expect(r.stderr()).not.toContain("unexpected error");
  }
  for (const s of serving) expect(s.proc.exitCode).toBeNull(); // none crashed
  expect(listLeases(sb.lockDir).length).toBe(10);
  expect(await Promise.all(serving.map((s) => s.stop()))).toEqual(serving.map(() => 0));
}, 180_000);

test("race: the same name started twice at once: exactly one serves, the other names the holder", async () => {
  const sb = await sandbox(10);
  boxes.push(sb);
  const procs = [serve(sb, "twin"), serve(sb, "twin")];
  running.push(...procs);
  const bound = await withTimeout(Promise.all(procs.map((p) => p.ready)), PER_ROUND_MS, "2 starts");
  expect(bound.filter(Boolean).length).toBe(1);
  const winner = procs[bound[0] ? 0 : 1]!;
  const loser = procs[bound[0] ? 1 : 0]!;
  expect(await loser.exited).toBe(2);
  const port = bound[bound[0] ? 0 : 1]!.port;
  expect(loser.stderr()).toContain(`lease "twin" is held by pid ${winner.proc.pid} on port ${port}`);
  expect(await winner.stop()).toBe(0);
}, 180_000);
