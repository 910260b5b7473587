import { describe, expect, test } from "bun:test";
import { COMMANDS } from "../../src/cli/index.ts";
import { cli } from "./_run.ts";

describe("the command table", () => {
  test("each entry loads the command of its name", async () => {
    for (const entry of COMMANDS) expect((await entry.load()).name).toBe(entry.name);
  });

  test("help lists every command with its summary, and help COMMAND shows its usage", async () => {
    const all = await cli(["help"], {});
    expect(all.code).toBe(0);
    for (const entry of COMMANDS) {
      const cmd = await entry.load();
      expect(all.out).toContain(`  ${cmd.name.padEnd(10)}  ${cmd.summary}`);
    }
    const one = await cli(["send", "--help"], {});
    expect(one.code).toBe(0);
    expect(one.out).toStartWith("a2a-relay send");
  });

  test("an unknown command is a usage error", async () => {
    expect((await cli(["nope"], {})).code).toBe(2);
  });
});
