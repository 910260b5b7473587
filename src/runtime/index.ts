import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import type { Runtime } from "./types.ts";

export type * from "./types.ts";

/**
 * The runtime this process runs on: Deno when `globalThis.Deno` exists, else Bun. Both modules
 * load on either runtime (neither imports `bun:sqlite` nor touches `Bun`/`Deno` at load time).
 */
export function currentRuntime(): Runtime {
  return "Deno" in globalThis ? denoRuntime : bunRuntime;
}
