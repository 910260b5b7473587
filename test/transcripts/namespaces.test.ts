import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CliIO } from "../../src/cli/index.ts";
import { transcriptCommand } from "../../src/cli/transcript.ts";
import type { TranscriptLine } from "../../src/transcripts/index.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

const BOT = "bot-token-for-transcripts-0123";
let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

async function linesOf(path: string, n: number): Promise<TranscriptLine[]> {
  const end = Date.now() + 3000;
  for (;;) {
    const lines = existsSync(path)
      ? readFileSync(path, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as TranscriptLine)
      : [];
    if (lines.length >= n || Date.now() > end) return lines;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("transcripts: namespaced per origin and peer", () => {
  test("A2A and local turns on the same contextId land in separate namespaces; admin and CLI read them", async () => {
    relay = await startTestRelay({
      toml: `[profiles.echo]\nhandler = "echo"\n[peers.bot]\nprofiles = ["echo"]\ntoken_env = "BOT"\n`,
      env: { BOT },
    });
    const r = relay;
    const a2a = await r.rpc("SendMessage", { message: userMessage("over a2a", { contextId: "shared" }) });
    expect(a2a.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    const local = await r.relay.engine.send({
      peer: "local",
      profile: "echo",
      origin: "local",
      message: userMessage("from this host", { contextId: "shared" }) as never,
    });
    await r.relay.engine.waitSettled(local.id, "local");
    await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${BOT}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: userMessage("another peer", { contextId: "shared" }) },
      }),
    });

    const root = join(r.dir, "data", "transcripts");
    const mine = await linesOf(join(root, "echo", "local.jsonl"), 4);
    expect(mine.map((l) => [l.origin, l.context, l.dir, l.role, l.text])).toEqual([
      ["a2a", "a2a:local:shared", "in", "user", "over a2a"],
      ["a2a", "a2a:local:shared", "out", "agent", "over a2a"],
      ["local", "local:shared", "in", "user", "from this host"],
      ["local", "local:shared", "out", "agent", "from this host"],
    ]);
    expect(mine[1]).toMatchObject({
      peer: "local",
      profile: "echo",
      task: a2a.body.result.task.id,
      state: "TASK_STATE_COMPLETED",
      usage: { inputTokens: 2, outputTokens: 2 },
    });
    const bots = await linesOf(join(root, "echo", "bot.jsonl"), 2);
    expect(bots.map((l) => l.context)).toEqual(["a2a:bot:shared", "a2a:bot:shared"]);

    // GET /admin/transcripts/{peer}
    const res = await fetch(`${r.url}/admin/transcripts/local?context=local:shared`, {
      headers: { authorization: `Bearer ${r.token}` },
    });
    const body = (await res.json()) as { lines: TranscriptLine[] };
    expect(body.lines.map((l) => l.text)).toEqual(["from this host", "from this host"]);
    const forbidden = await fetch(`${r.url}/admin/transcripts/local`, {
      headers: { authorization: `Bearer ${BOT}` },
    });
    expect(forbidden.status).toBe(403);

    // a2a-relay transcript PEER
    const out: string[] = [];
    let stop: (s: string) => void = () => {};
    const io: CliIO = {
      out: (t) => {
        out.push(t);
      },
      err: () => {},
      env: { A2A_RELAY_HOME: join(r.dir, "data") },
      stopSignal: new Promise((res) => {
        stop = res;
      }),
    };
    const cmd = transcriptCommand({ intervalMs: 5 });
    expect(await cmd.run(["bot", "--json"], io)).toBe(0);
    expect(out.splice(0).map((l) => JSON.parse(l).context)).toEqual(["a2a:bot:shared", "a2a:bot:shared"]);
    expect(await cmd.run(["local", "--context", "a2a:local:shared"], io)).toBe(0);
    expect(out.splice(0).join("")).toMatch(
      /echo a2a:local:shared → user: over a2a\n.*← agent \(4 tokens\): over a2a/,
    );

    // --follow prints what is appended, until the stop signal
    const following = cmd.run(["bot", "--follow", "--json", "--limit", "1"], io);
    await new Promise((res) => setTimeout(res, 20));
    await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${BOT}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "SendMessage",
        params: { message: userMessage("later") },
      }),
    });
    const end = Date.now() + 3000;
    while (out.length < 3 && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
    stop("SIGINT");
    expect(await following).toBe(0);
    expect(out.map((l) => JSON.parse(l).text)).toEqual(["another peer", "later", "later"]);
  });
});
