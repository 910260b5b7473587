import { z } from "zod";

/**
 * The building blocks of the config schema (schema.ts), shaped by what start-up pays: the
 * compiled binary builds zod schemas in its interpreter at tens of microseconds a node, and the
 * relay's start paid for every node of the config schema (issue 20, bench/NOTES.md).
 */

/**
 * A section most configs never have, built on its first parse: zod builds a schema at tens of
 * microseconds a node in the compiled binary's interpreter, and the relay's start paid for every
 * node (issue 20). `z.unknown().pipe(...)`: an `.optional()` of a bare `z.lazy` asks the lazy
 * schema whether it is optional, which builds it. `keysAt` (hints.ts) sees through the wrapper.
 */
export const onFirstUse = <T extends z.ZodType>(build: () => T) => {
  let built: T | undefined;
  return z.unknown().pipe(z.lazy(() => (built ??= build())));
};

/**
 * `num(min, max)`, and `int(min, max)` for a whole number: `z.number().int().min(a).max(b)` in one
 * step. Zod clones the whole schema for each step, tens of microseconds each in the compiled
 * binary's interpreter, and the config's numbers are most of its nodes (issue 20).
 */
export const num = (min: number, max?: number, whole = false) =>
  number.check(...(whole ? [integer] : []), z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));
const number = z.number();
const integer = z.int();
export const int = (min: number, max?: number) => num(min, max, true);

/**
 * Leaves every config has many of, built once and shared: a zod schema is immutable, so one
 * instance serves every key of its type (each one built is tens of microseconds of the start).
 */
export const text = z.string();
export const someText = text.optional();
export const nonEmpty = z.string().min(1).optional();
export const someUrl = z.string().url().optional();
