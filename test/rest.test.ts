import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ClientFactory, ClientFactoryOptions, RestTransportFactory } from "@a2a-js/sdk/client";
import { bearerFetch } from "./helpers/bearer-fetch.ts";
import { startTestRelay, type TestRelay, userMessage } from "./helpers/relay.ts";

let r: TestRelay;
let client: Awaited<ReturnType<ClientFactory["createFromUrl"]>>;
const TERMINAL_COMPLETED = 3; // ts-proto enum value of TASK_STATE_COMPLETED

beforeAll(async () => {
  r = await startTestRelay();
  const fetchImpl = bearerFetch(r.token);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new RestTransportFactory({ fetchImpl })],
      preferredTransports: ["HTTP+JSON"],
    }),
  );
  client = await factory.createFromUrl(`${r.url}/a2a/echo/`);
});
afterAll(async () => {
  await r.stop();
});

const sdkMessage = (text: string, extra: Record<string, unknown> = {}) => ({
  messageId: crypto.randomUUID(),
  role: 1,
  parts: [
    { content: { $case: "text" as const, value: text }, metadata: undefined, filename: "", mediaType: "" },
  ],
  contextId: "",
  taskId: "",
  extensions: [],
  referenceTaskIds: [],
  metadata: undefined,
  ...extra,
});

describe("HTTP+JSON binding with the official SDK client", () => {
  test("the profile card advertises JSON-RPC and HTTP+JSON", async () => {
    const res = await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`, {
      headers: { "a2a-version": "1.0" },
    });
    const card = (await res.json()) as {
      supportedInterfaces: Array<{ protocolBinding: string; url: string }>;
    };
    expect(card.supportedInterfaces.map((i) => i.protocolBinding)).toEqual(["JSONRPC", "HTTP+JSON"]);
    expect(card.supportedInterfaces[1]!.url).toBe(`${r.url}/a2a/echo`);
  });

  test("send, get, list", async () => {
    const res = (await client.sendMessage({ message: sdkMessage("over rest") } as never)) as {
      id: string;
      status: { state: number };
      artifacts: Array<{ parts: Array<{ content: { value: string } }> }>;
    };
    expect(res.status.state).toBe(TERMINAL_COMPLETED);
    expect(res.artifacts[0]!.parts[0]!.content.value).toBe("over rest");
    const got = await client.getTask({ id: res.id, historyLength: 1 } as never);
    expect(got.history).toHaveLength(1);
    await client.sendMessage({ message: sdkMessage("second") } as never);
    const list = await client.listTasks({ pageSize: 1 } as never);
    expect(list.tasks).toHaveLength(1);
    expect(list.nextPageToken).not.toBe("");
  });

  test("stream: task snapshot first, terminal status last", async () => {
    const cases: string[] = [];
    for await (const ev of client.sendMessageStream({ message: sdkMessage("sleep:50 streamed") } as never)) {
      cases.push((ev as { payload?: { $case: string } }).payload?.$case ?? "?");
    }
    expect(cases[0]).toBe("task");
    expect(cases.at(-1)).toBe("statusUpdate");
    expect(cases).toContain("artifactUpdate");
  });

  test("cancel a running task, then cancelling again is TaskNotCancelable", async () => {
    const t = (await client.sendMessage({
      message: sdkMessage("sleep:5000 long"),
      configuration: { returnImmediately: true, acceptedOutputModes: [] },
    } as never)) as { id: string };
    const c = await client.cancelTask({ id: t.id } as never);
    expect(c.status?.state).toBe(5); // CANCELED
    await expect(client.cancelTask({ id: t.id } as never)).rejects.toMatchObject({
      name: "TaskNotCancelableError",
    });
  });
});

describe("HTTP+JSON errors", () => {
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${r.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${r.token}`, "content-type": "application/json", ...headers },
      body,
    });
  const cases: Array<[string, string, string, string | undefined, number, string]> = [
    ["unknown task", "GET", "/a2a/echo/tasks/nope", undefined, 404, "TASK_NOT_FOUND"],
    ["unknown profile", "GET", "/a2a/nope/tasks", undefined, 404, "PROFILE_NOT_FOUND"],
    ["unknown path", "GET", "/a2a/echo/frob", undefined, 404, "METHOD_NOT_FOUND"],
    ["bad JSON", "POST", "/a2a/echo/message:send", "{", 400, "PARSE_ERROR"],
    ["bad params", "POST", "/a2a/echo/message:send", '{"message":{}}', 400, "INVALID_PARAMS"],
    ["bad query", "GET", "/a2a/echo/tasks?pageSize=x", undefined, 400, "INVALID_PARAMS"],
    [
      // a peer without push_hosts hears that first, whatever task it names (as the SDK answers)
      "push configs for a peer that may not use push",
      "GET",
      "/a2a/echo/tasks/x/pushNotificationConfigs",
      undefined,
      400,
      "PUSH_NOTIFICATION_NOT_SUPPORTED",
    ],
    [
      "extended card",
      "GET",
      "/a2a/echo/extendedAgentCard",
      undefined,
      400,
      "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
    ],
  ];
  for (const [name, method, path, body, status, reason] of cases) {
    test(`${name} → ${status} ${reason}`, async () => {
      const res = await call(method, path, body);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/a2a+json");
      const json = (await res.json()) as {
        error: { code: number; status: string; details: Array<{ reason: string }> };
      };
      expect(json.error.code).toBe(status);
      expect(json.error.details[0]!.reason).toBe(reason);
    });
  }

  test("a terminal task cannot be subscribed to (400 FAILED_PRECONDITION)", async () => {
    const sent = await call("POST", "/a2a/echo/message:send", JSON.stringify({ message: userMessage("x") }));
    const { task } = (await sent.json()) as { task: { id: string } };
    const res = await call("POST", `/a2a/echo/tasks/${task.id}:subscribe`);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { status: string } };
    expect(json.error.status).toBe("FAILED_PRECONDITION");
  });
});
