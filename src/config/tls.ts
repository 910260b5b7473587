import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "../errors.ts";

/**
 * TLS material, read and checked once at start (by config/load.ts, the only file reader): a
 * certificate that has expired or is not yet valid, a key that is not the certificate's, a key
 * file others can read, a missing file or a CA file with no certificate is a config error naming
 * the file and the problem.
 */

export interface ServerTls {
  cert: string;
  key: string;
  minVersion: "1.2" | "1.3";
  /** Client certificates must chain to this CA (mutual TLS). */
  clientCa?: string;
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
  /** When the certificate lapses (epoch ms), for /metrics. */
  notAfter: number;
}

/** Read the served certificate again from the same files (rotation), with the same checks. */
export function reloadServerTls(t: ServerTls, now = Date.now()): ServerTls {
  return serverTls(
    "server.tls",
    {
      cert_file: t.certFile,
      key_file: t.keyFile,
      min_version: t.minVersion,
      ...(t.clientCaFile ? { client_ca_file: t.clientCaFile } : {}),
    },
    now,
  );
}

/** What an outbound https call trusts and presents. */
export interface OutboundTls {
  /** Extra CAs, trusted besides the system roots. */
  ca?: string[];
  cert?: string;
  key?: string;
}

export function serverTls(
  key: string,
  o: { cert_file: string; key_file: string; min_version: "1.2" | "1.3"; client_ca_file?: string | undefined },
  now = Date.now(),
): ServerTls {
  const cert = readPem(`${key}.cert_file`, o.cert_file);
  const x = certificate(`${key}.cert_file`, o.cert_file, cert, now);
  const keyPem = readKey(`${key}.key_file`, o.key_file);
  matches(`${key}.key_file`, o.key_file, x, keyPem);
  return {
    cert,
    key: keyPem,
    minVersion: o.min_version,
    certFile: o.cert_file,
    keyFile: o.key_file,
    notAfter: Date.parse(x.validTo),
    ...(o.client_ca_file
      ? { clientCa: caBundle(`${key}.client_ca_file`, o.client_ca_file), clientCaFile: o.client_ca_file }
      : {}),
  };
}

export function outboundTls(
  key: string,
  o: {
    ca_file?: string | undefined;
    client_cert_file?: string | undefined;
    client_key_file?: string | undefined;
  },
  fleetCa: string | undefined,
  now = Date.now(),
): OutboundTls | undefined {
  const ca = [...(fleetCa ? [fleetCa] : []), ...(o.ca_file ? [caBundle(`${key}.ca_file`, o.ca_file)] : [])];
  if (!!o.client_cert_file !== !!o.client_key_file) {
    throw new ConfigError(`${key}: set client_cert_file and client_key_file together`);
  }
  let client: { cert: string; key: string } | undefined;
  if (o.client_cert_file && o.client_key_file) {
    const cert = readPem(`${key}.client_cert_file`, o.client_cert_file);
    const x = certificate(`${key}.client_cert_file`, o.client_cert_file, cert, now);
    const k = readKey(`${key}.client_key_file`, o.client_key_file);
    matches(`${key}.client_key_file`, o.client_key_file, x, k);
    client = { cert, key: k };
  }
  if (!ca.length && !client) return undefined;
  return { ...(ca.length ? { ca } : {}), ...(client ?? {}) };
}

/** A CA file: one or more PEM certificates. */
export function caBundle(key: string, file: string): string {
  const pem = readPem(key, file);
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new ConfigError(`${key}: ${file} holds no PEM certificate`);
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (err) {
      throw new ConfigError(
        `${key}: ${file} holds a certificate that cannot be read (${(err as Error).message})`,
      );
    }
  }
  return pem;
}

// internal

function readPem(key: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ConfigError(
      `${key}: cannot read ${file} (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`,
    );
  }
}

function readKey(key: string, file: string): string {
  const pem = readPem(key, file);
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new ConfigError(
      `${key}: ${file} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
  return pem;
}

function certificate(key: string, file: string, pem: string, now: number): X509Certificate {
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(`${key}: ${file} is not a PEM certificate (${(err as Error).message})`);
  }
  if (Date.parse(x.validTo) < now) throw new ConfigError(`${key}: ${file} expired on ${x.validTo}`);
  if (Date.parse(x.validFrom) > now)
    throw new ConfigError(`${key}: ${file} is not valid before ${x.validFrom}`);
  return x;
}

function matches(key: string, file: string, cert: X509Certificate, keyPem: string): void {
  let ok = false;
  try {
    ok = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new ConfigError(`${key}: ${file} is not a PEM private key (${(err as Error).message})`);
  }
  if (!ok) throw new ConfigError(`${key}: ${file} is not the key of the certificate`);
}
