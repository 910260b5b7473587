import { BlockList, isIP } from "node:net";

/**
 * `server.trusted_proxies`: the addresses (CIDR blocks, or single addresses) whose
 * `X-Forwarded-Proto`/`X-Forwarded-Host` the relay believes for the URLs in its cards. Anyone else
 * sending those headers is ignored: a client must not be able to make the relay advertise a URL
 * of the client's choosing.
 */

/** `"10.0.0.0/8"`, `"fd00::/8"`, `"192.0.2.7"`: the block, or undefined when it is not one. */
export function parseCidr(text: string): { net: string; prefix: number; type: "ipv4" | "ipv6" } | undefined {
  const [net = "", bits, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  const v = isIP(net);
  if (!v) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { net, prefix, type: v === 4 ? "ipv4" : "ipv6" };
}

/** A test for "this peer address is a trusted proxy" (IPv4-mapped IPv6 addresses count as IPv4). */
export function proxyMatcher(cidrs: readonly string[]): (address: string) => boolean {
  if (!cidrs.length) return () => false;
  const list = new BlockList();
  for (const c of cidrs) {
    const b = parseCidr(c);
    if (!b) throw new TypeError(`not a CIDR block: ${c}`);
    list.addSubnet(b.net, b.prefix, b.type);
  }
  return (address) => {
    const v = isIP(address);
    return v !== 0 && list.check(address, v === 4 ? "ipv4" : "ipv6");
  };
}
