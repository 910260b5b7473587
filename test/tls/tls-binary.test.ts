import { afterAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import { startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { makeCerts } from "./_certs.ts";

/** The compiled binary serves TLS too: its banner says https, and curl with the fleet CA gets in. */

const certs = makeCerts();
afterAll(async () => {
  await stopAll();
  rmSync(certs.dir, { recursive: true, force: true });
});

test("the compiled binary on TLS: https banner, an echo turn over https for curl with the fleet CA", async () => {
  const r = await startBinary({
    toml: `[server.tls]\ncert_file = "${certs.path("server.pem")}"\nkey_file = "${certs.path("server.key")}"\n[profiles.echo]\nhandler = "echo"\n`,
  });
  expect(r.url).toStartWith("https://");
  const curl = Bun.spawn(
    [
      "curl",
      "-sS",
      "--max-time",
      "5",
      "--cacert",
      certs.path("fleet-ca.pem"),
      "-H",
      `Authorization: Bearer ${r.token}`,
      "-H",
      "content-type: application/json",
      "-H",
      "a2a-version: 1.0",
      "-d",
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: { messageId: "tls-1", role: "ROLE_USER", parts: [{ text: "hello tls" }] } },
      }),
      `${r.url}/a2a/echo`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  expect(await curl.exited).toBe(0);
  const body = JSON.parse(await new Response(curl.stdout).text());
  expect(body.result.task.artifacts[0].parts[0].text).toBe("hello tls");
}, 60_000); // the first test may build the binary

test("SIGHUP reads the certificate again at once (the same path as a change on disk)", async () => {
  const cert = join(certs.dir, "hup.pem");
  const key = join(certs.dir, "hup.key");
  // whole-second modification times, set again after the swap: the 2 s poll sees no change
  const then = new Date("2026-01-01T00:00:00Z");
  copyFileSync(certs.path("server.pem"), cert);
  copyFileSync(certs.path("server.key"), key);
  chmodSync(key, 0o600);
  for (const f of [cert, key]) utimesSync(f, then, then);
  const r = await startBinary({
    toml: `[server.tls]\ncert_file = "${cert}"\nkey_file = "${key}"\n`,
  });
  expect(await servedCN(r.port)).toBe("relay-b");
  copyFileSync(certs.path("server2.pem"), cert);
  copyFileSync(certs.path("server2.key"), key);
  for (const f of [cert, key]) utimesSync(f, then, then);
  await Bun.sleep(2500);
  expect(await servedCN(r.port)).toBe("relay-b");
  r.proc.kill("SIGHUP");
  await waitFor(
    async () => (await servedCN(r.port).catch(() => "")) === "relay-b-rotated",
    2000,
    "the certificate after SIGHUP",
  );
  await waitFor(async () => r.stderr().includes("SIGHUP: TLS files read again"), 2000, "the SIGHUP line");
  expect(r.proc.exitCode).toBeNull(); // SIGHUP does not stop the relay
}, 30_000);

function servedCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectTls({ host: "127.0.0.1", port, ca: certs.pem("fleet-ca.pem") }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.end();
      resolve(String(cn));
    });
    s.on("error", reject);
  });
}
