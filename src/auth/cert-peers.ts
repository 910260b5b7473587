import { isIP } from "node:net";
import type { ResolvedPeer } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import type { ClientCertificate } from "../runtime/types.ts";
import { type Peer, toPeer } from "./peers.ts";

/**
 * `[peers.X.tls] subject = "CN=host-a"` and/or `san = "DNS:host-a"`: a peer identified by the
 * client certificate it presented in the mutual-TLS handshake (already verified against
 * `server.tls.client_ca_file` by then), without a bearer token or JWT. A certificate that maps to
 * no peer, or to more than one, identifies nobody: the request still needs a credential.
 */

export class CertificatePeers {
  readonly #entries: Array<{ subject?: string; san?: string; peer: Peer }> = [];

  constructor(peers: Iterable<ResolvedPeer>) {
    const seen = new Map<string, string>();
    for (const p of peers) {
      const t = p.tls;
      if (!t) continue;
      const key = `peers.${p.name}.tls`;
      const subject = t.subject !== undefined ? normalizeSubject(t.subject) : undefined;
      if (subject === "")
        throw new ConfigError(
          `${key}.subject: "${t.subject}" is not a distinguished name (e.g. "CN=host-a")`,
        );
      const san = t.san !== undefined ? normalizeSan(t.san) : undefined;
      if (san === "")
        throw new ConfigError(`${key}.san: "${t.san}" is not DNS:name, IP:address, URI:uri or email:address`);
      const id = `${subject ?? ""}|${san ?? ""}`;
      const other = seen.get(id);
      if (other) throw new ConfigError(`${key}: the same certificate identity as peer "${other}"`);
      seen.set(id, p.name);
      this.#entries.push({
        ...(subject !== undefined ? { subject } : {}),
        ...(san !== undefined ? { san } : {}),
        peer: toPeer(p, "cert"),
      });
    }
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The one peer this certificate names (every configured field matches), else undefined. */
  identify(cert: ClientCertificate): Peer | undefined {
    const subject = normalizeSubject(cert.subject);
    const sans = new Set((cert.subjectAltName ?? "").split(/,\s*/).map(normalizeSan).filter(Boolean));
    const found = this.#entries.filter(
      (e) => (e.subject === undefined || e.subject === subject) && (e.san === undefined || sans.has(e.san)),
    );
    return found.length === 1 ? found[0]!.peer : undefined;
  }
}

/**
 * A distinguished name as a canonical string: attributes `KEY=value` (key upper-cased, spaces
 * around trimmed) sorted, one a line. Accepts `CN=a, O=b`, `/CN=a/O=b` (openssl -subj) and one a
 * line (X509Certificate). "" when it is not one.
 */
export function normalizeSubject(dn: string): string {
  const text = dn.trim().replace(/^\//, "");
  const parts = text.split(/\n|,(?=\s*[A-Za-z][\w.]*\s*=)|\/(?=[A-Za-z][\w.]*=)/);
  const out: string[] = [];
  for (const part of parts) {
    const m = /^\s*([A-Za-z][\w.]*)\s*=\s*(.*?)\s*$/.exec(part);
    if (!m?.[2]) return "";
    out.push(`${m[1]!.toUpperCase()}=${m[2]}`);
  }
  return out.sort().join("\n");
}

// internal

/** `DNS:Host-A` → `DNS:host-a`; `IP Address:10.0.0.1` → `IP:10.0.0.1`; "" when not a SAN. */
function normalizeSan(text: string): string {
  const m = /^\s*(DNS|IP Address|IP|URI|email)\s*:\s*(\S+?)\s*$/i.exec(text);
  if (!m) return "";
  const kind = m[1]!.toUpperCase();
  const value = m[2]!;
  if (kind === "DNS") return `DNS:${value.toLowerCase()}`;
  if (kind === "IP" || kind === "IP ADDRESS") return isIP(value) ? `IP:${value.toLowerCase()}` : "";
  if (kind === "EMAIL") return `email:${value.toLowerCase()}`;
  return `URI:${value}`;
}
