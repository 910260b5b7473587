/**
 * A2A TCK System Under Test built on the official @a2a-js/sdk 1.3.0 (A2A v1.0).
 *
 * Implements the executor scenarios of a2a-tck (branch 1.0-dev) scenarios/*.feature, routed on the
 * incoming message's messageId prefix (same order as the TCK's generated Python/Java SUTs):
 *   tck-complete-task, tck-artifact-{text,file,file-url,data}, tck-message-response,
 *   tck-input-required, tck-reject-task, tck-stream-{001,002,003}, tck-stream-ordering-001,
 *   tck-stream-artifact-{text,file,chunked}, test-resubscribe-message-id; anything else completes
 *   with "Unhandled messageId prefix: <id>".
 *
 * Serves on 127.0.0.1:$SUT_PORT (default 9999):
 *   GET  /.well-known/agent-card.json   v1.0 card (no v0.3 translation, whatever A2A-Version says)
 *   POST /a2a/jsonrpc                   JSON-RPC binding (v1.0; v0.3 compat layer on for header-less calls)
 *   *    /a2a/rest/...                  HTTP+JSON binding (v1.0)
 * Push notifications are on (in-memory config store + the SDK's default sender) unless SUT_PUSH=0.
 *
 * Run: bun sut-agent.ts   (env SUT_PORT, SUT_LOG=1 to log every request line)
 */
import {
  type AgentCard,
  type Artifact,
  type Message,
  type Part,
  Role,
  type Task,
  TaskState,
} from "@a2a-js/sdk";
import {
  AgentEvent,
  type AgentExecutor,
  DefaultPushNotificationSender,
  DefaultRequestHandler,
  type ExecutionEventBus,
  InMemoryPushNotificationStore,
  InMemoryTaskStore,
  type RequestContext,
} from "@a2a-js/sdk/server";
import { agentCardHandler, jsonRpcHandler, restHandler, UserBuilder } from "@a2a-js/sdk/server/express";
import express from "express";

const PORT = Number(process.env.SUT_PORT ?? 9999);
const HOST = "127.0.0.1";
const BASE = `http://${HOST}:${PORT}`;
const STREAMING_TIMEOUT_MS = 2000;
/** SUT_PUSH=0: no push notifications (card says so, the SDK answers -32003 / 400). */
const PUSH = process.env.SUT_PUSH !== "0";

const card: AgentCard = {
  name: "a2a-js SDK 1.3.0 TCK SUT",
  description: "System Under Test for the A2A TCK, built on @a2a-js/sdk 1.3.0",
  supportedInterfaces: [
    { url: `${BASE}/a2a/jsonrpc`, protocolBinding: "JSONRPC", tenant: "", protocolVersion: "1.0" },
    { url: `${BASE}/a2a/rest`, protocolBinding: "HTTP+JSON", tenant: "", protocolVersion: "1.0" },
    // the SDK's v0.3 compat layer on the JSON-RPC handler needs a v0.3 JSONRPC interface on the card
    { url: `${BASE}/a2a/jsonrpc`, protocolBinding: "JSONRPC", tenant: "", protocolVersion: "0.3" },
  ],
  provider: { organization: "a2a-relay TCK harness", url: "https://example.com" },
  version: "1.0.0",
  documentationUrl: undefined,
  capabilities: { streaming: true, pushNotifications: PUSH, extensions: [], extendedAgentCard: false },
  securitySchemes: {},
  securityRequirements: [],
  defaultInputModes: ["text"],
  defaultOutputModes: ["text"],
  skills: [
    {
      id: "tck",
      name: "TCK Conformance",
      description: "Handles TCK conformance test messages",
      tags: ["tck"],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    },
  ],
  signatures: [],
  iconUrl: undefined,
} as AgentCard;

const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function textPart(text: string): Part {
  return {
    content: { $case: "text", value: text },
    metadata: undefined,
    filename: "",
    mediaType: "text/plain",
  };
}
function rawFilePart(): Part {
  return {
    content: { $case: "raw", value: Buffer.from("tck") },
    metadata: undefined,
    filename: "output.txt",
    mediaType: "text/plain",
  };
}
function urlFilePart(): Part {
  return {
    content: { $case: "url", value: "https://example.com/output.txt" },
    metadata: undefined,
    filename: "output.txt",
    mediaType: "text/plain",
  };
}
function dataPart(value: unknown): Part {
  return {
    content: { $case: "data", value },
    metadata: undefined,
    filename: "",
    mediaType: "application/json",
  };
}
function agentMessage(parts: Part[], taskId: string, contextId: string): Message {
  return {
    messageId: crypto.randomUUID(),
    role: Role.ROLE_AGENT,
    parts,
    taskId,
    contextId,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  } as Message;
}

/** TaskUpdater-like helper over the SDK's event bus. */
class Updater {
  constructor(
    readonly bus: ExecutionEventBus,
    readonly ctx: RequestContext,
  ) {}
  get taskId() {
    return this.ctx.taskId;
  }
  get contextId() {
    return this.ctx.contextId;
  }
  /** first event of every task-producing execution: the task (new: SUBMITTED with the user message) */
  start() {
    const base: Task = this.ctx.task
      ? { ...this.ctx.task }
      : ({
          id: this.taskId,
          contextId: this.contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: now(), message: undefined },
          artifacts: [],
          history: [this.ctx.userMessage],
          metadata: undefined,
        } as Task);
    this.bus.publish(AgentEvent.task(base));
  }
  status(state: TaskState, msg?: Message) {
    this.bus.publish(
      AgentEvent.statusUpdate({
        taskId: this.taskId,
        contextId: this.contextId,
        status: { state, timestamp: now(), message: msg },
        metadata: undefined,
      }),
    );
  }
  artifact(parts: Part[], o: { append?: boolean; lastChunk?: boolean; artifactId?: string } = {}) {
    const artifact: Artifact = {
      artifactId: o.artifactId ?? crypto.randomUUID(),
      name: "",
      description: "",
      parts,
      metadata: undefined,
      extensions: [],
    } as Artifact;
    this.bus.publish(
      AgentEvent.artifactUpdate({
        taskId: this.taskId,
        contextId: this.contextId,
        artifact,
        append: o.append ?? false,
        lastChunk: o.lastChunk ?? true,
        metadata: undefined,
      }),
    );
  }
  msg(text: string) {
    return agentMessage([textPart(text)], this.taskId, this.contextId);
  }
}

class TckExecutor implements AgentExecutor {
  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const messageId = ctx.userMessage?.messageId ?? "";
    const u = new Updater(bus, ctx);
    const W = TaskState.TASK_STATE_WORKING;
    const C = TaskState.TASK_STATE_COMPLETED;
    const p = (prefix: string) => messageId.startsWith(prefix);
    if (process.env.SUT_LOG)
      console.log(
        `[sut] execute task=${ctx.taskId} ctx=${ctx.contextId} existingTask=${!!ctx.task} request=${JSON.stringify(ctx.request)}`,
      );

    if (p("tck-message-response")) {
      bus.publish(AgentEvent.message(agentMessage([textPart("Direct message response")], "", ctx.contextId)));
      bus.finished();
      return;
    }
    if (p("tck-reject-task")) {
      throw new Error("rejected");
    }
    u.start();
    if (p("tck-stream-artifact-chunked")) {
      u.status(W);
      const id = crypto.randomUUID();
      u.artifact([textPart("chunk-1 ")], { artifactId: id, append: true, lastChunk: false });
      u.artifact([textPart("chunk-2")], { artifactId: id, append: true, lastChunk: true });
      u.status(C);
    } else if (p("test-resubscribe-message-id")) {
      u.status(W);
      await sleep(2 * STREAMING_TIMEOUT_MS);
      u.status(C);
    } else if (p("tck-stream-artifact-text")) {
      u.status(W);
      u.artifact([textPart("Streamed text content")]);
      u.status(C);
    } else if (p("tck-stream-artifact-file")) {
      u.status(W);
      u.artifact([rawFilePart()]);
      u.status(C);
    } else if (p("tck-stream-ordering-001")) {
      u.status(W);
      u.artifact([textPart("Ordered output")]);
      u.status(C);
    } else if (p("tck-artifact-file-url")) {
      u.artifact([urlFilePart()]);
      u.status(C);
    } else if (p("tck-input-required")) {
      u.status(TaskState.TASK_STATE_INPUT_REQUIRED);
    } else if (p("tck-complete-task")) {
      u.status(C, u.msg("Hello from TCK"));
    } else if (p("tck-artifact-text")) {
      u.artifact([textPart("Generated text content")]);
      u.status(C);
    } else if (p("tck-artifact-file")) {
      u.artifact([rawFilePart()]);
      u.status(C);
    } else if (p("tck-artifact-data")) {
      u.artifact([dataPart({ key: "value", count: 42 })]);
      u.status(C);
    } else if (p("tck-stream-001")) {
      u.status(W);
      u.artifact([textPart("Stream hello from TCK")]);
      u.status(C);
    } else if (p("tck-stream-002")) {
      u.status(C);
    } else if (p("tck-stream-003")) {
      u.status(W);
      u.artifact([textPart("Stream task lifecycle")]);
      u.status(C);
    } else {
      u.status(C, u.msg(`Unhandled messageId prefix: ${messageId}`));
    }
    bus.finished();
  }

  cancelTask = async (taskId: string, bus: ExecutionEventBus): Promise<void> => {
    // contextId is filled by the SDK from the stored task when absent
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: "",
        status: { state: TaskState.TASK_STATE_CANCELED, timestamp: now(), message: undefined },
        metadata: undefined,
      }),
    );
    bus.finished();
  };
}

const pushStore = new InMemoryPushNotificationStore();
const handler = new DefaultRequestHandler(
  card,
  new InMemoryTaskStore(),
  new TckExecutor(),
  undefined,
  PUSH ? pushStore : undefined,
  PUSH ? new DefaultPushNotificationSender(pushStore, { timeout: 2000 }) : undefined,
);

const app = express();
if (process.env.SUT_LOG) {
  app.use((req, _res, next) => {
    console.log(`[sut] ${req.method} ${req.originalUrl} a2a-version=${req.header("a2a-version") ?? "-"}`);
    next();
  });
}
app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: handler }));
app.use(
  "/a2a/jsonrpc",
  jsonRpcHandler({
    requestHandler: handler,
    userBuilder: UserBuilder.noAuthentication,
    legacyCompat: { enabled: true },
  }),
);
app.use("/a2a/rest", restHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));

const server = app.listen(PORT, HOST, () => console.log(`[sut] listening on ${BASE}`));
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
