import { invalidParams } from "../errors.ts";

/**
 * Where push notifications may go: http(s) URLs whose host is on the peer's `push_hosts`
 * allow-list (exact host, or `*.example.com` for subdomains). Private, loopback and link-local
 * addresses are refused unless listed literally, so a peer cannot aim the relay at internal
 * services (SSRF).
 */
export function checkPushTarget(url: string, allow: readonly string[] | undefined, field = "url"): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidParams(`${field} is not a URL`, field);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    throw invalidParams(`${field} must be http(s)`, field);
  if (u.username || u.password) throw invalidParams(`${field} must not carry credentials`, field);
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const list = (allow ?? []).map((h) => h.toLowerCase());
  if (list.length === 0) {
    throw invalidParams(`push notifications are not enabled for this peer (no push_hosts configured)`, field);
  }
  const listed = list.some((h) => h === host || (h.startsWith("*.") && host.endsWith(h.slice(1))));
  if (!listed)
    throw invalidParams(`${field}: host ${host} is not on this peer's push_hosts allow-list`, field);
  if (isInternal(host) && !list.includes(host)) {
    throw invalidParams(
      `${field}: ${host} is a private or link-local address; list it explicitly in push_hosts`,
      field,
    );
  }
  return u;
}

/** Loopback, private (RFC 1918, ULA), link-local and unspecified addresses, and localhost names. */
export function isInternal(host: string): boolean {
  if (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host.endsWith(".local") ||
    host.endsWith(".internal")
  ) {
    return true;
  }
  const kind = ipVersion(host);
  if (kind === 4) {
    const [a, b] = host.split(".").map(Number) as [number, number];
    return (
      a === 127 ||
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (kind === 6) {
    const h = host.toLowerCase();
    return (
      h === "::1" ||
      h === "::" ||
      h.startsWith("fc") ||
      h.startsWith("fd") ||
      h.startsWith("fe80") ||
      h.startsWith("::ffff:")
    );
  }
  return false;
}

// internal

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * 4 or 6 for an IP literal, else 0 (as node:net's isIP, whose module alone took ~9 ms of the
 * compiled binary's start).
 */
function ipVersion(host: string): 0 | 4 | 6 {
  if (IPV4.test(host)) return 4;
  return host.includes(":") && URL.canParse(`http://[${host}]/`) ? 6 : 0;
}
