import type { AddressInfo } from "node:net";
import { type AgentCard, type Message, type Part, Role, type Task, TaskState } from "@a2a-js/sdk";
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBus,
  InMemoryTaskStore,
  type RequestContext,
} from "@a2a-js/sdk/server";
import { agentCardHandler, jsonRpcHandler, restHandler, UserBuilder } from "@a2a-js/sdk/server/express";
import express from "express";
import { until } from "./until.ts";

/**
 * An A2A v1.0 agent built on the official SDK (express, port 0), v0.3 compat on; with
 * `binding: "rest"` it offers only the HTTP+JSON interface (at `restUrl`, v1.0). What it does
 * depends on the text it gets:
 *   `ask: Q`     → INPUT_REQUIRED asking Q; the next message on that task completes with `got: TEXT`
 *                  (a next message starting `as-is:` finds its task re-announced as it stands, still
 *                  INPUT_REQUIRED, before WORKING: what the TCK's SUTs and many executors do;
 *                  one starting `later:` is taken, and so in the task's history, 1.5 s before its
 *                  executor publishes anything)
 *   `slow`       → WORKING, then waits until canceled (or 20 s)
 *   `direct: X`  → answers with a direct Message `X` (no task)
 *   `fail: X`    → FAILED with X
 *   anything else → WORKING "echoing", an artifact `echo` with the text, COMPLETED "echo: TEXT"
 */
export interface SdkAgent {
  url: string;
  /** The JSON-RPC endpoint (what a relay profile's `url` points at). */
  rpcUrl: string;
  /** The HTTP+JSON base URL (served only with `binding: "rest"`). */
  restUrl: string;
  /** Every inbound message: text, ids and the relay headers seen. */
  received: Array<{
    text: string;
    taskId: string;
    contextId: string;
    hops: string | undefined;
    auth: string | undefined;
    version: string | undefined;
  }>;
  /** Every JSON body POSTed to it, as received (JSON-RPC envelopes or REST bodies). */
  bodies: Array<{ path: string; body: unknown }>;
  canceled: Set<string>;
  stop(): Promise<void>;
}

export async function startSdkAgent(
  opts: { token?: string; binding?: "jsonrpc" | "rest" } = {},
): Promise<SdkAgent> {
  const rest = opts.binding === "rest";
  const card: AgentCard = {
    name: "sdk-echo",
    description: "SDK v1.0 echo / input-required test agent",
    supportedInterfaces: rest
      ? [{ url: "", protocolBinding: "HTTP+JSON", tenant: "", protocolVersion: "1.0" }]
      : [
          { url: "", protocolBinding: "JSONRPC", tenant: "", protocolVersion: "1.0" },
          { url: "", protocolBinding: "JSONRPC", tenant: "", protocolVersion: "0.3" },
        ],
    provider: undefined,
    version: "1.0.0",
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [
      {
        id: "echo",
        name: "Echo",
        description: "Echoes text back",
        tags: ["test"],
        examples: [],
        inputModes: [],
        outputModes: [],
        securityRequirements: [],
      },
    ],
    signatures: [],
  };
  const received: SdkAgent["received"] = [];
  const executor = new TestExecutor();
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  const app = express();
  // headers of the request being handled (tests send one request at a time)
  let lastHeaders: Pick<SdkAgent["received"][number], "hops" | "auth" | "version"> = {
    hops: undefined,
    auth: undefined,
    version: undefined,
  };
  const bodies: SdkAgent["bodies"] = [];
  // parsed once here (the SDK's handlers then find the body already read) and recorded as sent
  app.use(express.json({ limit: "4mb" }));
  app.use((req, _res, next) => {
    if (req.method === "POST") bodies.push({ path: req.path, body: structuredClone(req.body) });
    next();
  });
  app.use((req, res, next) => {
    lastHeaders = {
      hops: req.header("a2a-relay-hops"),
      auth: req.header("authorization"),
      version: req.header("a2a-version"),
    };
    if (req.method === "POST" && opts.token && req.header("authorization") !== `Bearer ${opts.token}`) {
      res.status(401).json({ jsonrpc: "2.0", id: null, error: { code: -32050, message: "bad token" } });
      return;
    }
    next();
  });
  executor.onMessage = (text, taskId, contextId) =>
    received.push({ text, taskId, contextId, ...lastHeaders });
  app.use(
    "/.well-known/agent-card.json",
    agentCardHandler({ agentCardProvider: handler, legacyCompat: { enabled: !rest } }),
  );
  if (rest) {
    app.use("/a2a/rest", restHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  } else {
    app.use(
      "/a2a/jsonrpc",
      jsonRpcHandler({
        requestHandler: handler,
        userBuilder: UserBuilder.noAuthentication,
        legacyCompat: { enabled: true },
      }),
    );
  }
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  for (const i of card.supportedInterfaces) i.url = `${url}/a2a/${rest ? "rest" : "jsonrpc"}`;
  return {
    url,
    rpcUrl: `${url}/a2a/jsonrpc`,
    restUrl: `${url}/a2a/rest`,
    received,
    bodies,
    canceled: executor.canceled,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// internal

class TestExecutor implements AgentExecutor {
  readonly canceled = new Set<string>();
  onMessage: (text: string, taskId: string, contextId: string) => void = () => {};

  cancelTask = async (taskId: string): Promise<void> => {
    this.canceled.add(taskId);
  };

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = ctx;
    const text = ctx.userMessage.parts
      .map((p) => (p.content?.$case === "text" ? p.content.value : ""))
      .join("");
    this.onMessage(text, taskId, contextId);
    if (text.startsWith("direct:")) {
      bus.publish(AgentEvent.message(agentMessage(text.slice(7).trim(), "", contextId)));
      bus.finished();
      return;
    }
    // the SDK has put the message in the task's history already; the executor is slow to start
    if (ctx.task && text.startsWith("later:")) await new Promise((r) => setTimeout(r, 1500));
    const task: Task = {
      id: taskId,
      contextId,
      status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: now(), message: undefined },
      artifacts: [],
      history: [ctx.userMessage],
      metadata: undefined,
    };
    const asIs = ctx.task && text.startsWith("as-is:");
    bus.publish(AgentEvent.task(ctx.task ? { ...ctx.task, ...(asIs ? {} : { status: task.status }) } : task));
    const status = (state: TaskState, msg?: string) =>
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: {
            state,
            timestamp: now(),
            message: msg ? agentMessage(msg, taskId, contextId) : undefined,
          },
          metadata: undefined,
        }),
      );
    if (ctx.task) {
      status(TaskState.TASK_STATE_WORKING, "continuing");
      artifact(bus, taskId, contextId, `got: ${text}`);
      status(TaskState.TASK_STATE_COMPLETED, `got: ${text}`);
    } else if (text.startsWith("ask:")) {
      status(TaskState.TASK_STATE_INPUT_REQUIRED, text.slice(4).trim());
    } else if (text.startsWith("fail:")) {
      status(TaskState.TASK_STATE_FAILED, text.slice(5).trim());
    } else if (text === "slow") {
      status(TaskState.TASK_STATE_WORKING, "working slowly");
      // runs until canceled, or completes after 20 s
      await until(() => this.canceled.has(taskId), 20_000, "a cancel").catch(() => undefined);
      status(
        this.canceled.has(taskId) ? TaskState.TASK_STATE_CANCELED : TaskState.TASK_STATE_COMPLETED,
        "stopped",
      );
    } else {
      status(TaskState.TASK_STATE_WORKING, "echoing");
      artifact(bus, taskId, contextId, text);
      status(TaskState.TASK_STATE_COMPLETED, `echo: ${text}`);
    }
    bus.finished();
  }
}

function artifact(bus: ExecutionEventBus, taskId: string, contextId: string, text: string) {
  bus.publish(
    AgentEvent.artifactUpdate({
      taskId,
      contextId,
      artifact: {
        artifactId: crypto.randomUUID(),
        name: "echo",
        description: "",
        parts: [textPart(text)],
        metadata: undefined,
        extensions: [],
      },
      append: false,
      lastChunk: true,
      metadata: undefined,
    }),
  );
}

function agentMessage(text: string, taskId: string, contextId: string): Message {
  return {
    messageId: crypto.randomUUID(),
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    taskId,
    contextId,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function textPart(text: string): Part {
  return {
    content: { $case: "text", value: text },
    metadata: undefined,
    filename: "",
    mediaType: "text/plain",
  };
}

const now = () => new Date().toISOString();
