/**
 * Time-ordered ids (UUID version 7, RFC 9562): 48 bits of Unix milliseconds, a 12-bit counter,
 * then random bits. Task, context and message ids the relay makes are keys of SQLite B-trees; ids
 * that only grow are appended next to each other instead of landing on random pages, so a commit
 * dirties a few pages instead of one page per row. Monotonic within this process (RFC 9562,
 * method 1: the counter orders ids made in the same millisecond).
 */
export function uuidv7(now: number = Date.now()): string {
  let ms = Math.max(0, Math.floor(now));
  if (ms > last.ms) {
    last.ms = ms;
    last.counter = Math.floor(Math.random() * 0x800); // leave room to count up within the ms
  } else if (++last.counter > 0xfff) {
    last.ms++; // 4096 ids in one millisecond: borrow the next one
    last.counter = 0;
  }
  ms = last.ms;
  const b = randomBytes16();
  // 48-bit big-endian timestamp (split: JS bit operators are 32-bit)
  const hi = Math.floor(ms / 2 ** 32);
  const lo = ms >>> 0;
  b[0] = (hi >>> 8) & 0xff;
  b[1] = hi & 0xff;
  b[2] = lo >>> 24;
  b[3] = (lo >>> 16) & 0xff;
  b[4] = (lo >>> 8) & 0xff;
  b[5] = lo & 0xff;
  b[6] = 0x70 | (last.counter >>> 8); // version 7, counter high bits
  b[7] = last.counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f); // RFC 9562 variant
  let hex = "";
  for (let i = 0; i < 16; i++) hex += HEX[b[i]!];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const last = { ms: 0, counter: 0 };

/** 16 random bytes from a pool refilled 4 KiB at a time (one system call per 256 ids). */
const pool = new Uint8Array(4096);
let poolAt = pool.length;
function randomBytes16(): Uint8Array {
  if (poolAt + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + 16);
  poolAt += 16;
  return out;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
