import { Message as SdkMessage, Task as SdkTask, SendMessageRequest, StreamResponse } from "@a2a-js/sdk";
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";
import { bearerFetch } from "../helpers/bearer-fetch.ts";

/**
 * The official SDK client (v1.0) against `base` (a card base URL), with an optional bearer token,
 * over JSON-RPC (default) or HTTP+JSON (`binding: "rest"`).
 */
export async function sdkClientFor(
  base: string,
  token?: string,
  binding: "jsonrpc" | "rest" = "jsonrpc",
): Promise<Client> {
  const fetchImpl = bearerFetch(token);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      ...(binding === "rest"
        ? { transports: [new RestTransportFactory({ fetchImpl })], preferredTransports: ["HTTP+JSON"] }
        : { transports: [new JsonRpcTransportFactory({ fetchImpl })] }),
    }),
  );
  return factory.createFromUrl(base);
}

export function sdkSend(text: string, extra: { message?: object; configuration?: object } = {}) {
  return SendMessageRequest.fromJSON({
    message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], ...extra.message },
    ...(extra.configuration ? { configuration: extra.configuration } : {}),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: JSON for assertions
export type Json = any;

/** SDK objects as JSON (enum names, `{text}` parts), for readable assertions. */
export const taskJson = (t: unknown): Json => SdkTask.toJSON(t as SdkTask);
export const messageJson = (m: unknown): Json => SdkMessage.toJSON(m as SdkMessage);
export const eventJson = (e: unknown): Json => StreamResponse.toJSON(e as StreamResponse);

/** A SendMessage result (Task or Message) as JSON: `{task}` or `{message}`. */
export function resultJson(r: unknown): Json {
  const o = r as { id?: unknown; status?: unknown };
  return "status" in o && o.id !== undefined ? { task: taskJson(r) } : { message: messageJson(r) };
}

/** The texts of every artifact of a task (JSON form). */
export function artifactTexts(task: Json): string[] {
  return (task.artifacts ?? []).flatMap((a: Json) => a.parts.map((p: Json) => p.text));
}
