import type { AddressInfo } from "node:net";
import * as server02 from "@a2a-js/sdk-v02/server";
import type { AgentCard, Message, Task, TaskState } from "@a2a-js/sdk-v03";
import type { AgentExecutor, ExecutionEventBus, RequestContext } from "@a2a-js/sdk-v03/server";
import * as server03 from "@a2a-js/sdk-v03/server";
import { A2AExpressApp } from "@a2a-js/sdk-v03/server/express";
import express from "express";
import { until } from "./until.ts";

/**
 * An A2A v0.3 agent built on the last v0.3 release of the official SDK (`@a2a-js/sdk` 0.3.14,
 * installed as `@a2a-js/sdk-v03`): what agents written before v1.0 run. JSON-RPC at `rpcUrl`,
 * its card at `/.well-known/agent-card.json`. With `sdk: "0.2"`, the same agent on the SDK's
 * 0.2.5 release (`@a2a-js/sdk-v02`), its card at `/.well-known/agent.json` only. By text:
 *   `ask: Q`      → input-required asking Q; the next message on that task completes `got: TEXT`
 *   `slow`        → working, then waits until canceled (or 20 s)
 *   anything else → working, an artifact `echo` with the text, completed `echo: TEXT`
 */
export interface Sdk03Agent {
  url: string;
  rpcUrl: string;
  received: Array<{ text: string; taskId: string; contextId: string; messageId: string }>;
  canceled: Set<string>;
  stop(): Promise<void>;
}

export async function startSdk03Agent(opts: { sdk?: "0.2" | "0.3" } = {}): Promise<Sdk03Agent> {
  const v02 = opts.sdk === "0.2";
  const app = express();
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card: AgentCard = {
    protocolVersion: "0.3.0",
    name: "sdk-v03-echo",
    description: "an agent on the v0.3 SDK: echo, input-required, slow",
    url: `${url}/a2a/jsonrpc`,
    preferredTransport: "JSONRPC",
    version: "0.3.14",
    capabilities: { streaming: true, pushNotifications: false },
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [{ id: "echo", name: "Echo", description: "Echoes text back", tags: ["test"] }],
  };
  const executor = new Executor03();
  if (v02) {
    // the 0.2 server has the same shapes: its executor interface is the one above
    const handler = new server02.DefaultRequestHandler(
      { ...card, protocolVersion: "0.2.5" } as never,
      new server02.InMemoryTaskStore(),
      executor as never,
    );
    new server02.A2AExpressApp(handler).setupRoutes(app as never, "/a2a/jsonrpc");
  } else {
    const handler = new server03.DefaultRequestHandler(card, new server03.InMemoryTaskStore(), executor);
    new A2AExpressApp(handler).setupRoutes(app, "/a2a/jsonrpc");
  }
  // the card at the root too, where clients given the agent's base URL look
  app.get(`/.well-known/${v02 ? "agent.json" : "agent-card.json"}`, (_req, res) => void res.json(card));
  return {
    url,
    rpcUrl: `${url}/a2a/jsonrpc`,
    received: executor.received,
    canceled: executor.canceled,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// internal

class Executor03 implements AgentExecutor {
  readonly canceled = new Set<string>();
  readonly received: Sdk03Agent["received"] = [];

  cancelTask = async (taskId: string): Promise<void> => {
    this.canceled.add(taskId);
  };

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId, userMessage } = ctx;
    const text = userMessage.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
    this.received.push({ text, taskId, contextId, messageId: userMessage.messageId });
    const task: Task = ctx.task ?? {
      kind: "task",
      id: taskId,
      contextId,
      status: { state: "submitted", timestamp: new Date().toISOString() },
      history: [userMessage],
    };
    if (!ctx.task) bus.publish(task);
    const status = (state: TaskState, msg: string, final: boolean) =>
      bus.publish({
        kind: "status-update",
        taskId,
        contextId,
        status: { state, timestamp: new Date().toISOString(), message: agentMessage(msg, taskId, contextId) },
        final,
      });
    if (ctx.task) {
      status("working", "continuing", false);
      status("completed", `got: ${text}`, true);
    } else if (text.startsWith("ask:")) {
      status("input-required", text.slice(4).trim(), true);
    } else if (text === "slow") {
      status("working", "working slowly", false);
      await until(() => this.canceled.has(taskId), 20_000, "a cancel").catch(() => undefined);
      status(this.canceled.has(taskId) ? "canceled" : "completed", "stopped", true);
    } else {
      status("working", "echoing", false);
      bus.publish({
        kind: "artifact-update",
        taskId,
        contextId,
        artifact: { artifactId: crypto.randomUUID(), name: "echo", parts: [{ kind: "text", text }] },
        lastChunk: true,
      });
      status("completed", `echo: ${text}`, true);
    }
    bus.finished();
  }
}

function agentMessage(text: string, taskId: string, contextId: string): Message {
  return {
    kind: "message",
    messageId: crypto.randomUUID(),
    role: "agent",
    parts: [{ kind: "text", text }],
    taskId,
    contextId,
  };
}
