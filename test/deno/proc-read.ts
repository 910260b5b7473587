import { denoRuntime } from "../../src/runtime/deno.ts";

/** Fixture for runtime.denotest.ts: run with `--allow-run` only; prints what readProcFile sees. */
const read = denoRuntime.readProcFile!;
console.log(
  JSON.stringify({
    self: read(`/proc/${process.pid}/stat`)?.split(" ")[0],
    bootId: read("/proc/sys/kernel/random/boot_id")?.trim(),
    missing: read("/proc/999999999/stat") ?? null,
  }),
);
