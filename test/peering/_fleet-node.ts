import { fleetSend, startHermesFleetAgent } from "../helpers/hermes-fleet-agent.ts";

/**
 * A Hermes fleet node as its own process, for a network namespace the test process cannot reach:
 * `bun test/peering/_fleet-node.ts TOKEN` prints `{"url": …}`, then answers one JSON line on
 * stdout per JSON line on stdin: `{"op":"send",url,token,text,contextId?}` (the node calls out in
 * its dialect), `{"op":"received"}` (what it was sent), `{"op":"post",url,headers,body}` (a raw
 * request, for auth probes). It exits when stdin closes.
 */
const token = process.argv[2];
if (!token) throw new Error("usage: _fleet-node.ts TOKEN");
const agent = startHermesFleetAgent({ token });
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
out({ url: agent.url });

for await (const line of console) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line) as Record<string, string>;
  try {
    if (cmd.op === "send") out(await fleetSend(cmd.url!, cmd.token!, cmd.text!, cmd.contextId));
    else if (cmd.op === "received")
      out(agent.received.map((r) => ({ text: r.text, contextId: r.contextId })));
    else if (cmd.op === "post") {
      const res = await fetch(cmd.url!, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(cmd.headers as unknown as Record<string, string>),
        },
        body: cmd.body ?? "",
        signal: AbortSignal.timeout(10_000),
      });
      out({ status: res.status, body: await res.text() });
    } else out({ error: `unknown op ${cmd.op}` });
  } catch (err) {
    out({ error: err instanceof Error ? err.message : String(err) });
  }
}
await agent.stop();
process.exit(0);
