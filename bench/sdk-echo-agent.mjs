// The baseline: an echo agent on the official @a2a-js/sdk express server (v1.0, in-memory task
// store), run under Node as its authors intend. Answers every SendMessage with a completed task
// carrying the text as an artifact, like the relay's `echo` profile. Port from argv[2] (0 = any);
// prints "listening on http://127.0.0.1:PORT".
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from "@a2a-js/sdk/server";
import { agentCardHandler, jsonRpcHandler, UserBuilder } from "@a2a-js/sdk/server/express";
import express from "express";

const port = Number(process.argv[2] ?? 0);
const card = {
  name: "sdk-echo",
  description: "echo agent on the official SDK",
  version: "1.0.0",
  supportedInterfaces: [{ url: "", protocolBinding: "JSONRPC", protocolVersion: "1.0", tenant: "" }],
  capabilities: { streaming: true, pushNotifications: false, extensions: [] },
  securitySchemes: {},
  securityRequirements: [],
  defaultInputModes: ["text/plain"],
  defaultOutputModes: ["text/plain"],
  skills: [
    {
      id: "echo",
      name: "echo",
      description: "echo",
      tags: ["echo"],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    },
  ],
  signatures: [],
};

let artifactSeq = 0;
const executor = {
  async execute(ctx, bus) {
    const text = ctx.userMessage.parts
      .map((p) => (p.content?.$case === "text" ? p.content.value : ""))
      .join("");
    const ids = { taskId: ctx.taskId, contextId: ctx.contextId };
    const part = {
      content: { $case: "text", value: text },
      metadata: undefined,
      filename: "",
      mediaType: "",
    };
    bus.publish(
      AgentEvent.task({
        id: ctx.taskId,
        contextId: ctx.contextId,
        status: { state: 1, message: undefined, timestamp: new Date().toISOString() },
        artifacts: [],
        history: [ctx.userMessage],
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.artifactUpdate({
        ...ids,
        artifact: {
          artifactId: `a${++artifactSeq}`,
          name: "response",
          description: "",
          parts: [part],
          metadata: undefined,
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.statusUpdate({
        ...ids,
        status: { state: 3, message: undefined, timestamp: new Date().toISOString() },
        metadata: undefined,
      }),
    );
    bus.finished();
  },
  async cancelTask() {},
};

const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
const app = express();
app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: handler }));
app.use(jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
const server = app.listen(port, "127.0.0.1", () => {
  const addr = server.address();
  card.supportedInterfaces[0].url = `http://127.0.0.1:${addr.port}/`;
  console.log(`listening on http://127.0.0.1:${addr.port}`);
});
