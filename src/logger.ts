import pino, { type Logger } from "pino";

/** One JSON line per event on stdout, written synchronously (no worker threads). */
export function createLogger(level: string, dest: number | string = 1): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ["req.headers.authorization", "authorization", "token", "*.token"],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest, sync: true }),
  );
}
