import { bunRuntime } from "./bun.ts";
import type { Runtime } from "./types.ts";

export type * from "./types.ts";

/** The runtime this process runs on. Only Bun for now; Deno gets its own module behind the same type. */
export function currentRuntime(): Runtime {
  return bunRuntime;
}
