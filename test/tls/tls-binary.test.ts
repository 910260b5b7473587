import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startBinary, stopAll } from "../helpers/binary.ts";
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
});
