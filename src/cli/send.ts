import {
  isSettled,
  type Message,
  type Part,
  type StreamResponse,
  type Task,
  type TaskState,
} from "../a2a/types.ts";
import { callScope, connect, timeoutMs } from "../client/connect.ts";
import { eventLine, messageText, stateName } from "../client/format.ts";
import { finalTask, foldEvent, onInterrupt, settled } from "../client/outcome.ts";
import { progressDisplay } from "../client/progress.ts";
import { REACH_HELP, REACH_OPTIONS, reach, reachArgs } from "../client/reach.ts";
import type { A2AClient, ClientDeps } from "../client/rpc.ts";
import { resolveTarget } from "../client/target.ts";
import { readTextFile } from "../config/load.ts";
import { invalidAgentResponse, type RelayError, timedOut, UsageError } from "../errors.ts";
import { type CliIO, type Command, flags } from "./io.ts";

const USAGE = `a2a-relay send TARGET TEXT [--context ID] [--task ID] [--brief FILE] [--no-wait] [--stream] [--timeout S] [--json]
                    [--url URL | --relay NAME] [--config F] [--data-dir D] [--token-file F] [--verbose]

  TARGET        a profile on the relay (see below), or a full http(s)://HOST/a2a/PROFILE URL
  TEXT          the message (several words are joined with spaces)
  --context ID  continue that conversation (a new task in the same context)
  --task ID     answer a task that is waiting for input (input-required)
  --brief FILE  a JSON brief {context, expected_output, reply_to?, deadline_s?}, sent as a data part
  --no-wait     print the task id and return at once
  --stream      print one line per event on stdout as it arrives (with --json: one JSON event per line)
  --cancel-on-interrupt   Ctrl-C cancels the task (default: detach; it keeps running)
  --timeout S   stop waiting after S seconds: exit 5 (the task keeps running on the relay)
  --json        print the final task as JSON (v1.0 shape)

Waits for the final result by default and prints it (the artifacts' text, else the status message).
While it waits, stderr shows progress: on a terminal one status line updated in place (state,
elapsed, tokens so far, the latest progress text); elsewhere one line per event. Ctrl-C detaches
and prints the tasks watch / tasks cancel lines to pick the task up again.

${REACH_HELP}

Input required: the agent's question is printed on stdout, a hint to answer it with --task ID on
stderr, and the exit code is 0 (the exchange worked; the conversation is waiting for you).
Auth required (the agent wants credentials): exit 3.
Exit codes: 0 completed or input required, 1 failed/canceled/rejected, 2 usage or config error,
3 authentication refused, 4 budget exceeded, 5 timed out, 6 unreachable, 130 interrupted.

Examples:
  a2a-relay send echo "hello"
  a2a-relay send coder "fix the tests" --relay hermes-b --data-dir data-b --timeout 600
  a2a-relay send https://host-b:9200/a2a/coder "hi" --token-file ~/.config/a2a/host-b.token`;

export function sendCommand(deps: ClientDeps = {}): Command {
  return {
    name: "send",
    summary: "send a message to a profile and (by default) wait for the final result",
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = flags(argv, {
        context: { type: "string" },
        task: { type: "string" },
        brief: { type: "string" },
        "no-wait": { type: "boolean" },
        stream: { type: "boolean" },
        timeout: { type: "string" },
        json: { type: "boolean" },
        "cancel-on-interrupt": { type: "boolean" },
        ...REACH_OPTIONS,
      });
      const [target, ...words] = positionals;
      const text = words.join(" ");
      if (!target || !text)
        throw new UsageError(`send needs TARGET and TEXT\nusage: ${USAGE.split("\n")[0]}`);
      if (values["no-wait"] && values.stream)
        throw new UsageError("--no-wait and --stream exclude each other");
      const ms = timeoutMs(values.timeout);
      const parts: Part[] = [{ text }];
      if (values.brief) parts.push({ data: readBrief(values.brief), mediaType: "application/json" });
      const r = reach(values, io.env);
      const url = resolveTarget(target, io.env, r.explicit ? r.base : undefined);
      const client = connect(url, r, io, { fetch: deps.fetch, verbose: values.verbose });
      const message: Message = {
        messageId: crypto.randomUUID(),
        role: "ROLE_USER",
        parts,
        ...(values.context ? { contextId: values.context } : {}),
        ...(values.task ? { taskId: values.task } : {}),
      };

      const seen: { id?: string; state?: TaskState } = {};
      const scope = callScope(
        io.stopSignal,
        () => seen.id,
        ms,
        () => {
          const what = seen.id ? ` waiting for task ${seen.id} (${stateName(seen.state ?? "")})` : "";
          const hint = seen.id ? `; it keeps running: a2a-relay tasks get ${seen.id}` : "";
          return timedOut(`timed out after ${values.timeout} s${what}${hint}`, seen.id);
        },
      );
      const { signal } = scope;
      const display =
        values.stream || values["no-wait"]
          ? undefined
          : progressDisplay({ write: (t) => io.err(t), tty: io.tty === true, columns: io.columns });
      try {
        if (values["no-wait"]) {
          const r = await client.sendMessage(
            { message, configuration: { returnImmediately: true } },
            { signal },
          );
          if ("message" in r) return answer(io, r.message, values.json);
          io.out(values.json ? `${JSON.stringify(r.task)}\n` : `${r.task.id}\n`);
          return 0;
        }
        let streamed: Task | undefined;
        const onEvent = (e: StreamResponse) => {
          streamed = foldEvent(streamed, e);
          if (values.stream) io.out(values.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
          else display?.event(e);
        };
        const direct = await follow(client, message, seen, onEvent, signal);
        display?.end();
        if (direct) return answer(io, direct, values.json && !values.stream);
        const task = await finalTask(client, seen.id ?? "", streamed, signal);
        return settled(io, task, target, { json: !!values.json, stream: !!values.stream });
      } catch (err) {
        display?.end();
        if (signal.aborted && (signal.reason as RelayError | undefined)?.exitCode === 130) {
          return onInterrupt(io, client, seen.id, {
            cancel: !!values["cancel-on-interrupt"],
            via: reachArgs(values),
          });
        }
        if (signal.aborted) throw signal.reason;
        throw err;
      } finally {
        scope.done();
      }
    },
  };
}

export const send = sendCommand();

// internal

/**
 * Stream the send; if the stream ends before the task settles (a dropped connection), look at the
 * task and resubscribe, a bounded number of times. Returns a direct Message answer, if any.
 */
async function follow(
  client: A2AClient,
  message: Message,
  seen: { id?: string; state?: TaskState },
  onEvent: (e: StreamResponse) => void,
  signal: AbortSignal,
): Promise<Message | undefined> {
  let events = client.sendStream({ message }, { signal });
  for (let attempt = 0; ; attempt++) {
    for await (const e of events) {
      onEvent(e);
      if ("message" in e && !seen.id) return e.message;
      if ("task" in e) Object.assign(seen, { id: e.task.id, state: e.task.status.state });
      if ("statusUpdate" in e)
        Object.assign(seen, { id: e.statusUpdate.taskId, state: e.statusUpdate.status.state });
      if (seen.state && isSettled(seen.state)) return undefined;
    }
    if (!seen.id || attempt >= 3) break;
    const t = await client.getTask(seen.id, 0, { signal });
    seen.state = t.status.state;
    if (isSettled(t.status.state)) return undefined;
    events = client.subscribe(seen.id, { signal });
  }
  throw invalidAgentResponse(
    `${client.url}: the event stream ended before ${seen.id ? `task ${seen.id}` : "the task"} settled`,
  );
}

function answer(io: CliIO, m: Message, json: boolean | undefined): number {
  io.out(json ? `${JSON.stringify({ message: m })}\n` : `${messageText(m)}\n`);
  return 0;
}

function readBrief(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (err) {
    throw new UsageError(`--brief: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let brief: unknown;
  try {
    brief = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--brief: ${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!brief || typeof brief !== "object" || Array.isArray(brief)) {
    throw new UsageError(
      `--brief: ${file} must hold a JSON object {context, expected_output, reply_to?, deadline_s?}`,
    );
  }
  return brief as Record<string, unknown>;
}
