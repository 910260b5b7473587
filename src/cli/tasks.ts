import type { ListTasksParams, Task } from "../a2a/types.ts";
import { isSettled, partsText } from "../a2a/types.ts";
import { type CallScope, callScope, connect } from "../client/connect.ts";
import { messageText, parseState, stateName, table, taskRow } from "../client/format.ts";
import { finalTask, foldEvent, onInterrupt, settled } from "../client/outcome.ts";
import { progressDisplay } from "../client/progress.ts";
import { REACH_HELP, REACH_OPTIONS, reach, reachArgs } from "../client/reach.ts";
import type { A2AClient, ClientDeps } from "../client/rpc.ts";
import { type RelayError, UsageError } from "../errors.ts";
import { type CliIO, type Command, flags } from "./io.ts";

const USAGE = `a2a-relay tasks list [--context ID] [--state S] [--limit N] [--json]
a2a-relay tasks get ID [--history N] [--json]
a2a-relay tasks cancel ID [--json]
a2a-relay tasks watch ID [--cancel-on-interrupt] [--json]

  --context ID   only tasks of that conversation
  --state S      only tasks in that state (completed, working, input-required, failed, canceled, …)
  --limit N      at most N tasks, newest first (1-100, default 50)
  --history N    show at most the last N messages of the task
  watch          reattach to a running task (SubscribeToTask): progress on stderr as send shows it
                 (one status line on a terminal, else one line per event), then the answer; exit
                 codes as send. Ctrl-C detaches; --cancel-on-interrupt cancels the task instead
  --profile P    only that profile's tasks (default: every profile)
  --json         print the relay's JSON answer (v1.0 shapes)

Lists only the tasks of the peer whose credential is sent.

${REACH_HELP}

Example: a2a-relay tasks list --relay hermes-b --data-dir data-b --state working`;

export function tasksCommand(deps: ClientDeps = {}): Command {
  return {
    name: "tasks",
    summary: "list, show or cancel tasks",
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = flags(argv, {
        context: { type: "string" },
        state: { type: "string" },
        limit: { type: "string" },
        history: { type: "string" },
        profile: { type: "string" },
        json: { type: "boolean" },
        "cancel-on-interrupt": { type: "boolean" },
        ...REACH_OPTIONS,
      });
      const [sub, id, ...extra] = positionals;
      if (extra.length) throw new UsageError(`tasks: unexpected argument "${extra[0]}"`);
      if (values.profile !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(values.profile)) {
        throw new UsageError(`--profile: "${values.profile}" is not a profile name`);
      }
      const r = reach(values, io.env);
      const client = connect(`${r.base}/a2a${values.profile ? `/${values.profile}` : ""}`, r, io, {
        fetch: deps.fetch,
        verbose: values.verbose,
      });
      const scope = callScope(io.stopSignal, () => undefined);
      const call = { signal: scope.signal };
      const print = (v: unknown, human: () => string) =>
        io.out(values.json ? `${JSON.stringify(v, null, 2)}\n` : `${human()}\n`);

      if (sub === "list") {
        if (id) throw new UsageError(`tasks list takes no ID (got "${id}")`);
        const params: ListTasksParams = { pageSize: intOption("--limit", values.limit, 1, 100) ?? 50 };
        if (values.context) params.contextId = values.context;
        if (values.state) {
          const s = parseState(values.state);
          if (!s) throw new UsageError(`--state: unknown state "${values.state}"`);
          params.status = s;
        }
        const r = await client.listTasks(params, call).finally(scope.done);
        print(r, () => {
          if (!r.tasks.length) return "no tasks";
          const rows = r.tasks.map(taskRow);
          const more = r.totalSize > r.tasks.length ? `\n(${r.tasks.length} of ${r.totalSize} tasks)` : "";
          return `${table(["ID", "STATE", "CONTEXT", "UPDATED", "LAST MESSAGE"], rows)}${more}`;
        });
        return 0;
      }
      if (sub === "get" || sub === "cancel") {
        if (!id) throw new UsageError(`tasks ${sub} needs a task ID`);
        if (sub === "get") {
          const t = await client
            .getTask(id, intOption("--history", values.history, 0, 10_000), call)
            .finally(scope.done);
          print(t, () => describe(t));
          return 0;
        }
        const t = await client.cancelTask(id, call).finally(scope.done);
        print(t, () => `task ${t.id}: ${stateName(t.status.state)}`);
        return 0;
      }
      if (sub === "watch") {
        if (!id) throw new UsageError("tasks watch needs a task ID");
        return watch(io, client, id, scope, {
          json: !!values.json,
          cancel: !!values["cancel-on-interrupt"],
          via: reachArgs(values),
        });
      }
      throw new UsageError(
        `tasks needs list, get ID, cancel ID or watch ID\nusage: ${USAGE.split("\n\n")[0]}`,
      );
    },
  };
}

export const tasks = tasksCommand();

// internal

/** `tasks watch ID`: the snapshot, then live events until the task settles (or Ctrl-C). */
async function watch(
  io: CliIO,
  client: A2AClient,
  id: string,
  scope: CallScope,
  o: { json: boolean; cancel: boolean; via: string },
): Promise<number> {
  const { signal } = scope;
  const display = progressDisplay({ write: (t) => io.err(t), tty: io.tty === true, columns: io.columns });
  try {
    let task = await client.getTask(id, 0, { signal });
    display.event({ task });
    for (let attempt = 0; !isSettled(task.status.state) && attempt < 4; attempt++) {
      let streamed: Task | undefined;
      for await (const e of client.subscribe(id, { signal })) {
        display.event(e);
        streamed = foldEvent(streamed, e);
        if (streamed && isSettled(streamed.status.state)) break;
      }
      task = await finalTask(client, id, streamed, signal);
    }
    display.end();
    return settled(io, task, "PROFILE", { json: o.json, stream: false });
  } catch (err) {
    display.end();
    if (signal.aborted && (signal.reason as RelayError | undefined)?.exitCode === 130) {
      return onInterrupt(io, client, id, o);
    }
    if (signal.aborted) throw signal.reason;
    throw err;
  } finally {
    scope.done();
  }
}

function intOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name}: "${v}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function describe(t: Task): string {
  const lines = [
    `task ${t.id}`,
    `  state:    ${stateName(t.status.state)}${t.status.timestamp ? ` (${t.status.timestamp})` : ""}`,
    `  context:  ${t.contextId}`,
  ];
  const status = messageText(t.status.message);
  if (status) lines.push(`  status:   ${status}`);
  for (const a of t.artifacts ?? [])
    lines.push(`  artifact ${a.name ?? a.artifactId}: ${partsText(a.parts)}`);
  if (t.history?.length) {
    lines.push("  history:");
    for (const m of t.history)
      lines.push(`    ${m.role === "ROLE_USER" ? "user " : "agent"}  ${messageText(m)}`);
  }
  return lines.join("\n");
}
