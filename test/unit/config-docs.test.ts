import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { parseConfig } from "../../src/config/parse.ts";
import { ConfigSchema, ONE_OFF } from "../../src/config/schema.ts";

/**
 * The configs users copy must stay valid: config.example.toml parses whole, and every ```toml
 * block of the README and docs/ (fragments: a peer may name a profile of another block) passes
 * the schema, which knows each handler's keys.
 */
const root = join(import.meta.dir, "..", "..");
const machine = { cwd: "/", home: "/home/u", hostname: "h", uid: 1000 };

describe("documented configs", () => {
  test("config.example.toml parses", () => {
    const text = readFileSync(join(root, "config.example.toml"), "utf8");
    expect(() => parseConfig(text, {}, { file: "/etc/a2a-relay/config.toml", machine })).not.toThrow();
  });

  for (const file of [
    "README.md",
    "docs/protocol.md",
    "docs/conformance.md",
    "docs/gemini-a2a.md",
    "docs/profiles.md",
    "docs/budgets.md",
    "docs/peering.md",
    "docs/tls.md",
  ]) {
    test(`${file}: every toml block passes the schema`, () => {
      const md = readFileSync(join(root, file), "utf8");
      const blocks = [...md.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);
      expect(blocks.length).toBeGreaterThan(0);
      for (const [i, text] of blocks.entries()) {
        const r = ConfigSchema.safeParse(parse(text), ONE_OFF);
        const problems = r.error?.issues.map((x) => `${x.path.join(".")}: ${x.message}`) ?? [];
        expect({ block: i + 1, problems }).toEqual({ block: i + 1, problems: [] });
      }
    });
  }
});
