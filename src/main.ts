#!/usr/bin/env bun
import { main } from "./cli/index.ts";

const stopSignal = new Promise<string>((resolve) => {
  process.once("SIGINT", () => resolve("SIGINT"));
  process.once("SIGTERM", () => resolve("SIGTERM"));
});

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  tty: process.stderr.isTTY === true,
  stdoutTty: process.stdout.isTTY === true,
  columns: process.stderr.columns,
  stopSignal,
  onReload: (listener) => process.on("SIGHUP", listener),
});
process.exit(code);
