import { type Artifact, isSettled, type StreamResponse, type Task } from "../a2a/types.ts";
import { RelayError } from "../errors.ts";
import { finalText, messageText, stateName } from "./format.ts";
import type { CliIO } from "./io.ts";
import type { A2AClient } from "./rpc.ts";

/**
 * How a settled task ends a client command (`send`, `tasks watch`): what it prints and its exit
 * code; and what Ctrl-C does to a task being followed.
 */
export function settled(
  io: CliIO,
  task: Task,
  target: string,
  o: { json: boolean; stream: boolean },
): number {
  const state = task.status.state;
  const status = messageText(task.status.message);
  if (o.json && !o.stream) io.out(`${JSON.stringify(task)}\n`);
  switch (state) {
    case "TASK_STATE_COMPLETED":
      if (!o.json && !o.stream) io.out(`${finalText(task)}\n`);
      return 0;
    case "TASK_STATE_INPUT_REQUIRED":
      if (!o.json && !o.stream) io.out(`${status}\n`);
      io.err(
        `input required (task ${task.id}, context ${task.contextId}); answer with: a2a-relay send ${target} "ANSWER" --task ${task.id}\n`,
      );
      return 0;
    case "TASK_STATE_AUTH_REQUIRED":
      io.err(`a2a-relay: task ${task.id} needs authorization: ${status || "(no details)"}\n`);
      return 3;
    default:
      io.err(`a2a-relay: task ${task.id} ${stateName(state)}: ${status || "(no message)"}\n`);
      return 1;
  }
}

/**
 * Ctrl-C while following task `id`: detach (print how to watch or cancel it again) or, with
 * `--cancel-on-interrupt`, cancel it. Exit 130 either way. `via` repeats the reach flags.
 */
export async function onInterrupt(
  io: CliIO,
  client: A2AClient,
  id: string | undefined,
  o: { cancel: boolean; via: string },
): Promise<number> {
  if (!id) {
    io.err("a2a-relay: interrupted before the relay named the task\n");
    return 130;
  }
  if (o.cancel) {
    try {
      const t = await client.cancelTask(id, { signal: AbortSignal.timeout(5_000) });
      io.err(`task ${id} ${stateName(t.status.state)} (--cancel-on-interrupt)\n`);
    } catch (err) {
      const why = err instanceof RelayError ? `${err.message} (${err.reason})` : String(err);
      io.err(`a2a-relay: task ${id} could not be canceled: ${why}\n  a2a-relay tasks cancel ${id}${o.via}\n`);
    }
    return 130;
  }
  io.err(
    [
      `detached from task ${id}; it keeps running on the relay:`,
      `  a2a-relay tasks watch ${id}${o.via}    # follow it again`,
      `  a2a-relay tasks cancel ${id}${o.via}   # stop it`,
      "",
    ].join("\n"),
  );
  return 130;
}

/**
 * The task as a stream leaves it (`task` is the stream's first event): status and artifact updates
 * folded in, for when the relay cannot be asked again (see `finalTask`).
 */
export function foldEvent(task: Task | undefined, e: StreamResponse): Task | undefined {
  if ("task" in e) return e.task;
  if (!task) return undefined;
  if ("statusUpdate" in e) return { ...task, status: e.statusUpdate.status };
  if (!("artifactUpdate" in e)) return task;
  const { artifact, append } = e.artifactUpdate;
  const artifacts: Artifact[] = [...(task.artifacts ?? [])];
  const i = artifacts.findIndex((a) => a.artifactId === artifact.artifactId);
  if (i < 0) artifacts.push(artifact);
  else
    artifacts[i] = append
      ? { ...artifacts[i]!, parts: [...artifacts[i]!.parts, ...artifact.parts] }
      : artifact;
  return { ...task, artifacts };
}

/**
 * A followed task once its stream said it settled: the relay's own copy (`GetTask`), or, when the
 * relay cannot be reached any more (it was stopping: its last turns' streams end just before it
 * exits), the task as the stream left it.
 */
export async function finalTask(
  client: A2AClient,
  id: string,
  streamed: Task | undefined,
  signal: AbortSignal,
): Promise<Task> {
  try {
    return await client.getTask(id, undefined, { signal });
  } catch (err) {
    const gone = err instanceof RelayError && err.reason === "UPSTREAM_UNAVAILABLE" && !signal.aborted;
    if (gone && streamed && isSettled(streamed.status.state)) return streamed;
    throw err;
  }
}
