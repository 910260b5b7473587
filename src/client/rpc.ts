import { readSse } from "../a2a/sse-read.ts";
import type {
  ListTasksParams,
  ListTasksResult,
  Message,
  SendMessageParams,
  StreamResponse,
  Task,
} from "../a2a/types.ts";
import { invalidAgentResponse } from "../errors.ts";
import { fromFetchFailure, fromHttpStatus, fromWireError, type WireError } from "./errors.ts";

/**
 * A small A2A v1.0 JSON-RPC client over `fetch` (injected). Every failure is a RelayError carrying
 * the contract's exit code; an aborted call rejects with the signal's reason.
 */

/** The part of `fetch` the client uses (so tests and callers can pass a plain function). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** What the client commands (send, tasks, card) take from their caller: the fetch to use. */
export interface ClientDeps {
  fetch?: FetchLike;
}

interface ClientOptions {
  /** The JSON-RPC endpoint: `…/a2a/{profile}` or `…/a2a`. */
  url: string;
  /** Bearer credential; sent only in the Authorization header, never logged or echoed. */
  token?: string | undefined;
  fetch?: FetchLike;
  /** Appended to an authentication failure: where the credential came from (never its value). */
  authHint?: string | undefined;
}

interface CallOptions {
  signal?: AbortSignal | undefined;
}

type SendResult = { task: Task } | { message: Message };

export class A2AClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #fetch: FetchLike;
  readonly #hint: string | undefined;
  #nextId = 1;

  constructor(opts: ClientOptions) {
    this.url = opts.url;
    this.#token = opts.token;
    this.#fetch = opts.fetch ?? fetch;
    this.#hint = opts.authHint;
  }

  /** SendMessage: the Task (or a direct Message) once settled, or at once with returnImmediately. */
  sendMessage(params: SendMessageParams, o: CallOptions = {}): Promise<SendResult> {
    return this.#call<SendResult>("SendMessage", params, o);
  }

  /** SendStreamingMessage: the task snapshot first, then every event until the task settles. */
  sendStream(params: SendMessageParams, o: CallOptions = {}): AsyncGenerator<StreamResponse> {
    return this.#stream("SendStreamingMessage", params, o);
  }

  /** SubscribeToTask: snapshot, then live events (the task must not be terminal). */
  subscribe(id: string, o: CallOptions = {}): AsyncGenerator<StreamResponse> {
    return this.#stream("SubscribeToTask", { id }, o);
  }

  getTask(id: string, historyLength?: number, o: CallOptions = {}): Promise<Task> {
    return this.#call<Task>("GetTask", historyLength === undefined ? { id } : { id, historyLength }, o);
  }

  listTasks(params: ListTasksParams = {}, o: CallOptions = {}): Promise<ListTasksResult> {
    return this.#call<ListTasksResult>("ListTasks", params, o);
  }

  cancelTask(id: string, o: CallOptions = {}): Promise<Task> {
    return this.#call<Task>("CancelTask", { id }, o);
  }

  // internal

  async #post(id: number, method: string, params: unknown, accept: string, signal?: AbortSignal) {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept,
      "a2a-version": "1.0",
    };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    try {
      return await this.#fetch(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw fromFetchFailure(err, this.url);
    }
  }

  async #call<T>(method: string, params: unknown, o: CallOptions): Promise<T> {
    const id = this.#nextId++;
    const res = await this.#post(id, method, params, "application/json", o.signal);
    const text = await readText(res, o.signal);
    return this.#result(id, res, text) as T;
  }

  async *#stream(method: string, params: unknown, o: CallOptions): AsyncGenerator<StreamResponse> {
    const id = this.#nextId++;
    const res = await this.#post(id, method, params, "text/event-stream", o.signal);
    const type = res.headers.get("content-type") ?? "";
    if (!type.startsWith("text/event-stream") || !res.body) {
      // an error before the first event is a plain JSON-RPC response
      const result = this.#result(id, res, await readText(res, o.signal));
      yield result as StreamResponse;
      return;
    }
    try {
      for await (const ev of readSse(res.body)) {
        const msg = parseJson(ev.data) as {
          jsonrpc?: unknown;
          id?: unknown;
          result?: unknown;
          error?: WireError;
        };
        if (!msg || typeof msg !== "object")
          throw invalidAgentResponse(`${this.url}: an SSE event is not JSON`);
        if (msg.error) throw fromWireError(msg.error, res.status, this.#hint);
        if (msg.jsonrpc !== "2.0" || msg.id !== id || msg.result === undefined) {
          throw invalidAgentResponse(`${this.url}: an SSE event is not a JSON-RPC result for request ${id}`);
        }
        yield msg.result as StreamResponse;
      }
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason;
      throw err;
    }
  }

  #result(id: number, res: Response, text: string): unknown {
    const body = parseJson(text) as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: WireError };
    if (body && typeof body === "object" && body.error && typeof body.error.code === "number") {
      throw fromWireError(body.error, res.status, this.#hint);
    }
    if (!res.ok) throw fromHttpStatus(res.status, this.url, body ? "" : text, this.#hint);
    if (!body || typeof body !== "object" || body.jsonrpc !== "2.0" || body.result === undefined) {
      throw invalidAgentResponse(`${this.url} did not answer with a JSON-RPC result`);
    }
    if (body.id !== id) throw invalidAgentResponse(`${this.url} answered request ${id} with id ${body.id}`);
    return body.result;
  }
}

export function createClient(opts: ClientOptions): A2AClient {
  return new A2AClient(opts);
}

// internal

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readText(res: Response, signal?: AbortSignal): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw invalidAgentResponse(`reading the response failed: ${(err as Error).message}`);
  }
}
