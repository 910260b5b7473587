// Child process for crash.test.ts: appends transcript lines through the real writer as fast as it
// can until it is killed. Usage: bun _append-loop.ts ROOT
import { TranscriptWriter } from "../../src/transcripts/writer.ts";

const root = process.argv[2];
if (!root) throw new Error("usage: _append-loop.ts ROOT");
const w = new TranscriptWriter({ root, maxBytes: 1 << 30 });
const pad = "é".repeat(1500); // multi-byte, so lines straddle page boundaries at odd offsets
let i = 0;
function burst() {
  for (let k = 0; k < 40; k++) {
    w.append({
      ts: new Date().toISOString(),
      origin: "a2a",
      peer: "bot",
      profile: "echo",
      context: "a2a:bot:c",
      task: "t",
      message: `m${i}`,
      dir: "in",
      role: "user",
      text: `${i++} ${pad}`,
    });
  }
  setImmediate(burst);
}
burst();
