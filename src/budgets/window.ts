import { ConfigError } from "../errors.ts";

/** A budget window: a rolling duration, the current UTC day, or all time. */
export type BudgetWindow =
  | { kind: "rolling"; ms: number; text: string }
  | { kind: "daily"; text: "daily" }
  | { kind: "total"; text: "total" };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse `window`: "24h", "30m", "1h30m", "7d", "daily" or "total". `key` names it in errors. */
export function parseWindow(text: string, key: string): BudgetWindow {
  const t = text.trim().toLowerCase();
  if (t === "daily") return { kind: "daily", text: "daily" };
  if (t === "total") return { kind: "total", text: "total" };
  if (/^(\d+[smhd])+$/.test(t)) {
    let ms = 0;
    for (const m of t.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    if (ms > 0) return { kind: "rolling", ms, text: t };
  }
  throw new ConfigError(
    `${key}: "${text}" is not a window; use a duration like "24h", "30m", "1h30m", or "daily" (UTC day) or "total"`,
  );
}

/** The first instant (ms) inside the window that ends now: a use at `t` leaves it at `t + ms`. */
export function windowStart(w: BudgetWindow, now: number): number {
  if (w.kind === "rolling") return now - w.ms + 1;
  if (w.kind === "daily") return utcMidnight(now);
  return 0;
}

/** When a daily window starts over (next UTC midnight). */
export function nextUtcMidnight(now: number): number {
  return utcMidnight(now) + UNIT_MS.d!;
}

// internal

function utcMidnight(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
