import { join } from "node:path";
import type { TurnMessage } from "../tasks/engine.ts";
import { lineOf } from "./line.ts";
import type { TranscriptWriter } from "./writer.ts";

export type { TranscriptLine } from "./line.ts";
export { followTranscript, readTranscript, transcriptFiles } from "./reader.ts";
export { pruneTranscripts, TranscriptWriter, transcriptPath } from "./writer.ts";

/** `<data dir>/transcripts` */
export function transcriptRoot(dataDir: string): string {
  return join(dataDir, "transcripts");
}

/** The engine hook that writes each turn's messages to its transcript. */
export function transcriptHook(
  writer: TranscriptWriter,
  now: () => number = Date.now,
): (m: TurnMessage) => void {
  return (m) => writer.append(lineOf(m, now()));
}
