/**
 * "A relay never forwards to itself": compare an upstream URL with the URLs this relay listens on
 * (its bound URL, its public URL). Loopback spellings (127.x, localhost, ::1) count as the same host.
 */

export interface SelfIdentity {
  /** This relay's `server.id` (the name on its card). */
  id: string;
  /** Origins this relay answers on (bound URL once listening, `public_url`). */
  origins: () => string[];
}

export function isSelfUrl(url: string, self: SelfIdentity): boolean {
  const target = normalOrigin(url);
  if (!target) return false;
  return self.origins().some((o) => normalOrigin(o) === target);
}

// internal

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1|0\.0\.0\.0|\[::\])$/i;

function normalOrigin(url: string): string | undefined {
  try {
    const u = new URL(url);
    const host = LOOPBACK.test(u.hostname) ? "loopback" : u.hostname.toLowerCase();
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    return `${u.protocol}//${host}:${port}`;
  } catch {
    return undefined;
  }
}
