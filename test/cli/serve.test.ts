import { expect, test } from "bun:test";
import { deadPort } from "./_run.ts";
import { runCli, serveProcess } from "./_serve.ts";

/** `serve` as a process: a fixed port is leased (ports and --relay see it); --band needs --port auto. */

test("a fixed-port relay takes a lease under its server.id: ports lists it, --relay finds it", async () => {
  const port = await deadPort();
  const r = await serveProcess(["--port", String(port), "--log-format", "json"]);
  try {
    const leases = await runCli(["ports", "--json"], r.env);
    expect(leases.code).toBe(0);
    const [lease] = JSON.parse(leases.out).leases;
    expect(lease).toMatchObject({ port, url: `http://127.0.0.1:${port}` });
    expect(r.stderr()).toContain(`lease:     ${lease.name} (band -, port ${port})`);
    const sent = await runCli(["send", "echo", "hi", "--relay", lease.name, "--data-dir", r.dataDir], r.env);
    expect(sent).toMatchObject({ code: 0, out: "hi\n" });
    // the banner is on stderr; stdout is only JSON log lines
    for (const line of r.stdout().trim().split("\n").filter(Boolean))
      expect(() => JSON.parse(line)).not.toThrow();
  } finally {
    await r.stop();
  }
}, 20_000);

test("--band without --port auto, and a bad --log-format, are usage errors naming the flag", async () => {
  const env = { PATH: process.env.PATH ?? "", HOME: "/nonexistent" };
  const band = await runCli(["serve", "--band", "relay", "--port", "9999", "--data-dir", "/tmp/x-none"], env);
  expect(band.code).toBe(2);
  expect(band.err).toContain("--band relay: a band is where --port auto picks a port");
  const fmt = await runCli(["serve", "--log-format", "xml", "--data-dir", "/tmp/x-none"], env);
  expect(fmt.code).toBe(2);
  expect(fmt.err).toContain('--log-format: "xml" is not json or pretty');
});
