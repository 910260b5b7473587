import pino, { type Logger } from "pino";
import { LineSink } from "./log-sink.ts";

/** One JSON line per event on stdout (or a file), written in batches (see log-sink.ts). */
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
    new LineSink(dest),
  );
}
