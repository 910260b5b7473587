import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Certificates for the TLS tests, made with openssl in a temp dir: a fleet CA, a server
 * certificate for 127.0.0.1/localhost, a client certificate (CN=host-a), a rogue CA with its own
 * client, an expired certificate and a key that matches nothing. Keys are 0600.
 */
export interface Certs {
  dir: string;
  path(name: string): string;
  pem(name: string): string;
}

/** More certificates signed by the fleet CA: `name`.pem/.key with that CN and extension lines. */
export interface ExtraCert {
  name: string;
  cn: string;
  ext: string;
}

export function makeCerts(extra: ExtraCert[] = []): Certs {
  const dir = mkdtempSync(join(tmpdir(), "a2a-tls-"));
  const p = (n: string) => join(dir, n);
  const run = (...args: string[]) => {
    const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe", stdout: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
  };
  const key = (name: string) =>
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p(name));
  const ca = (name: string, cn: string) => {
    key(`${name}.key`);
    run(
      "req",
      "-x509",
      "-new",
      "-key",
      p(`${name}.key`),
      "-out",
      p(`${name}.pem`),
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
    );
  };
  const leaf = (name: string, cn: string, signer: string, ext: string) => {
    key(`${name}.key`);
    run("req", "-new", "-key", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/CN=${cn}`);
    writeFileSync(p(`${name}.ext`), ext);
    run(
      "x509",
      "-req",
      "-in",
      p(`${name}.csr`),
      "-CA",
      p(`${signer}.pem`),
      "-CAkey",
      p(`${signer}.key`),
      "-CAcreateserial",
      "-out",
      p(`${name}.pem`),
      "-days",
      "2",
      "-extfile",
      p(`${name}.ext`),
    );
  };
  ca("fleet-ca", "fleet-ca");
  ca("rogue-ca", "rogue-ca");
  leaf(
    "server",
    "relay-b",
    "fleet-ca",
    "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n",
  );
  leaf(
    "server2",
    "relay-b-rotated",
    "fleet-ca",
    "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n",
  );
  leaf("client", "host-a", "fleet-ca", "extendedKeyUsage = clientAuth\n");
  leaf("rogue-client", "mallory", "rogue-ca", "extendedKeyUsage = clientAuth\n");
  for (const e of extra) leaf(e.name, e.cn, "fleet-ca", e.ext);
  // an expired certificate: `openssl ca` takes explicit dates
  writeFileSync(p("index.txt"), "");
  writeFileSync(p("serial"), "1000\n");
  writeFileSync(
    p("ca.cnf"),
    `[ca]\ndefault_ca = d\n[d]\ndir = ${dir}\ndatabase = ${p("index.txt")}\nnew_certs_dir = ${dir}\ncertificate = ${p("fleet-ca.pem")}\nprivate_key = ${p("fleet-ca.key")}\nserial = ${p("serial")}\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n`,
  );
  key("expired.key");
  run("req", "-new", "-key", p("expired.key"), "-out", p("expired.csr"), "-subj", "/CN=expired");
  run(
    "ca",
    "-batch",
    "-config",
    p("ca.cnf"),
    "-in",
    p("expired.csr"),
    "-out",
    p("expired.pem"),
    "-notext",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
  );
  key("other.key");
  writeFileSync(p("no-certs.pem"), "not a certificate\n");
  for (const k of [
    "fleet-ca",
    "rogue-ca",
    "server",
    "server2",
    "client",
    "rogue-client",
    "expired",
    "other",
    ...extra.map((e) => e.name),
  ])
    chmodSync(p(`${k}.key`), 0o600);
  return { dir, path: p, pem: (n) => readFileSync(p(n), "utf8") };
}
