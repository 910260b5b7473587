import { LineSink } from "./log-sink.ts";

/**
 * One JSON line per event on stdout (or a file), written in batches (see log-sink.ts). The lines
 * are pino's (`{"level":30,"time":…,…fields,"msg":"…"}`, levels 10–60), without pino: the relay
 * logs with four methods, and loading pino was ~25 ms of CPU of the compiled binary's start.
 */
export interface Logger {
  debug(fields: object, msg?: string): void;
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
  /** Write the lines held in the batch now. */
  flush(cb?: (err?: Error) => void): void;
}

type LogLevel = keyof typeof LEVELS;

export const LOG_LEVELS: readonly string[] = ["debug", "info", "warn", "error", "silent"];

/** `format`: "json" (pino's lines) or "pretty" (`12:03:04.123 INFO msg key=value …`, for a terminal). */
export function createLogger(
  level: string,
  dest: number | string = 1,
  format: "json" | "pretty" = "json",
): Logger {
  if (!Object.hasOwn(LEVELS, level)) throw new TypeError(`unknown log level "${level}"`);
  const min = LEVELS[level as LogLevel];
  const sink = new LineSink(dest);
  const render = format === "pretty" ? pretty : line;
  const at = (n: number) =>
    n < min
      ? () => {}
      : (fields: object, msg?: string) => {
          sink.write(render(n, Date.now(), redact(fields as Record<string, unknown>), msg));
        };
  return {
    debug: at(LEVELS.debug),
    info: at(LEVELS.info),
    warn: at(LEVELS.warn),
    error: at(LEVELS.error),
    flush: (cb) => sink.flush(cb),
  };
}

// internal

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: Number.POSITIVE_INFINITY } as const;

const CENSOR = "[redacted]";

const NAMES: Record<number, string> = { 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR" };

function pretty(
  level: number,
  time: number,
  fields: Record<string, unknown>,
  msg: string | undefined,
): string {
  const t = new Date(time).toISOString().slice(11, 23);
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${t} ${NAMES[level] ?? level} ${msg ?? ""}${kv ? ` ${kv}` : ""}\n`;
}

function line(level: number, time: number, fields: Record<string, unknown>, msg: string | undefined): string {
  let body: string;
  try {
    body = JSON.stringify(fields);
  } catch (err) {
    // a cycle or a BigInt: the event is still logged, without its fields
    body = JSON.stringify({ logError: `fields not serialisable: ${(err as Error).message}` });
  }
  const rest = body.length > 2 ? `,${body.slice(1, -1)}` : "";
  return `{"level":${level},"time":${time}${rest}${msg === undefined ? "" : `,"msg":${JSON.stringify(msg)}`}}\n`;
}

/**
 * Secrets never reach the log: `authorization` and `token` at the top level, `token` one level
 * down (`*.token`) and `req.headers.authorization` are replaced (pino's redact paths before).
 * The caller's object is copied, never changed.
 */
function redact(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  const set = (k: string, v: unknown) => {
    if (out === fields) out = { ...fields };
    out[k] = v;
  };
  for (const k in fields) {
    const v = fields[k];
    if (k === "authorization" || k === "token") {
      if (v !== undefined) set(k, CENSOR);
    } else if (v instanceof Error) {
      set(k, { type: v.name, message: v.message, stack: v.stack });
    } else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const headers = k === "req" ? (o.headers as Record<string, unknown> | undefined) : undefined;
      const auth = headers !== null && typeof headers === "object" && headers.authorization !== undefined;
      if (o.token !== undefined || auth) {
        const copy: Record<string, unknown> = { ...o };
        if (o.token !== undefined) copy.token = CENSOR;
        if (auth) copy.headers = { ...headers, authorization: CENSOR };
        set(k, copy);
      }
    }
  }
  return out;
}
