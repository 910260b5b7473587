import { Message as SdkMessage, Task as SdkTask, SendMessageRequest } from "@a2a-js/sdk";
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
} from "@a2a-js/sdk/client";
import { bearerFetch } from "../helpers/bearer-fetch.ts";
import type { RelayProcess } from "../helpers/binary.ts";

/** Shared by the e2e files: the official SDK client, plain-fetch JSON-RPC and SSE reading. */

/** The official SDK client (v1.0 JSON-RPC), authenticating through an injected fetch. */
export async function sdkClient(r: RelayProcess, base = `${r.url}/a2a/echo/`): Promise<Client> {
  const fetchImpl = bearerFetch(r.token);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
    }),
  );
  return factory.createFromUrl(base);
}

/** A SendMessage request for the SDK, built from its JSON form. */
export function sdkSend(text: string, extra: { message?: object; configuration?: object } = {}) {
  return SendMessageRequest.fromJSON({
    message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], ...extra.message },
    ...(extra.configuration ? { configuration: extra.configuration } : {}),
  });
}

/** SDK objects → their JSON form (enum names instead of numbers), for readable assertions. */
// biome-ignore lint/suspicious/noExplicitAny: JSON for assertions
export const taskJson = (t: unknown): any => SdkTask.toJSON(t as SdkTask);
// biome-ignore lint/suspicious/noExplicitAny: JSON for assertions
export const messageJson = (m: unknown): any => SdkMessage.toJSON(m as SdkMessage);

export interface RpcReply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON-RPC answer of any shape
  body: any;
}

/** POST a JSON-RPC request with plain fetch; `version: null` sends no A2A-Version header. */
export async function rpc(
  r: RelayProcess,
  method: string,
  params: unknown,
  opts: {
    path?: string;
    version?: string | null;
    id?: unknown;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<RpcReply> {
  return post(r, JSON.stringify({ jsonrpc: "2.0", id: opts.id ?? 1, method, params }), opts);
}

/** POST a raw body to the JSON-RPC endpoint. */
export async function post(
  r: RelayProcess,
  body: NonNullable<RequestInit["body"]>,
  opts: {
    path?: string;
    version?: string | null;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<RpcReply> {
  const version = opts.version === undefined ? "1.0" : opts.version;
  const res = await fetch(`${r.url}${opts.path ?? "/a2a/echo"}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${r.token}`,
      ...(version === null ? {} : { "a2a-version": version }),
      ...opts.headers,
    },
    body,
    signal: opts.signal ?? AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Read an SSE response to its end (bounded): the parsed `data:` of every frame, in order. */
// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC frames of any shape
export async function readSse(res: Response, timeoutMs = 10_000): Promise<any[]> {
  const frames: unknown[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const timer = setTimeout(() => void reader.cancel(new Error("SSE read timed out")), timeoutMs);
  let buf = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i = buf.indexOf("\n\n");
      while (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (data) frames.push(JSON.parse(data));
        i = buf.indexOf("\n\n");
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return frames;
}

/** Open a streaming JSON-RPC call with plain fetch. */
export function stream(
  r: RelayProcess,
  method: string,
  params: unknown,
  opts: { version?: string | null; signal?: AbortSignal } = {},
): Promise<Response> {
  const version = opts.version === undefined ? "1.0" : opts.version;
  return fetch(`${r.url}/a2a/echo`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: `Bearer ${r.token}`,
      ...(version === null ? {} : { "a2a-version": version }),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
    signal: opts.signal ?? AbortSignal.timeout(15_000),
  });
}

export { userMessage, userMessageV03 } from "../helpers/messages.ts";

/** How many tasks the local peer has (v1.0 ListTasks totalSize). */
export async function taskCount(r: RelayProcess): Promise<number> {
  const { body } = await rpc(r, "ListTasks", { pageSize: 1 }, { path: "/a2a" });
  if (typeof body?.result?.totalSize !== "number")
    throw new Error(`ListTasks failed: ${JSON.stringify(body)}`);
  return body.result.totalSize;
}

/** The value of one Prometheus sample (no labels) in `/metrics`. */
export async function metric(r: RelayProcess, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
  return m ? Number(m[1]) : undefined;
}
