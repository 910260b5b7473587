import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * The real-CLI suite's own fake model server, on 127.0.0.1 and a random port. It speaks the four
 * wire formats the coding CLIs use: Anthropic messages (Claude Code), OpenAI chat completions
 * (OpenCode), OpenAI Responses (Codex) and Gemini generateContent (Gemini CLI), streaming or not.
 *
 * Its script: a prompt asks it to create `notes.txt` (first turn) or, when the prompt contains
 * EDIT-FILE, to edit it (second turn, reading it first where the CLI requires that). It answers
 * with the CLI's own file tool, then with a final text ("created notes.txt" / "edited
 * notes.txt"). Modes: ok, 401, 500, hang (never answers), close (drops the connection). On the
 * Gemini API a prompt containing HOLD-MODEL is never answered either, and one containing
 * `ASK-REMOTE agent: question` asks a remote A2A agent through the CLI's invoke_agent tool.
 * Offered BeeAI's `final_answer` tool, it answers through it.
 */

export type FakeMode = "ok" | "401" | "500" | "hang" | "close";

export const FILE = "notes.txt";
export const V1 = "created by fake model\n";
export const V2 = "created by fake model\nedited on the second turn\n";

export interface FakeRequest {
  path: string;
  /** The last user text of the conversation (the prompt). */
  prompt: string;
  /** The whole request body, to check a resumed session sent the earlier turn. */
  body: string;
  reply: string;
}

export interface FakeModel {
  url: string;
  port: number;
  mode: FakeMode;
  requests: FakeRequest[];
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: the requests are untyped wire JSON of four APIs
type J = any;
type Item = { kind: "user" | "result" | "other"; text: string };
type Tool = { name: string; type?: string };
type Action = { kind: "tool"; tool: string; args: Record<string, unknown> } | { kind: "text"; text: string };

export async function startFakeModel(mode: FakeMode = "ok"): Promise<FakeModel> {
  const sockets = new Set<Socket>();
  const fake: FakeModel = { url: "", port: 0, mode, requests: [], close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(fake, req, res, Buffer.concat(chunks).toString("utf8")));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  fake.port = typeof addr === "object" && addr ? addr.port : 0;
  fake.url = `http://127.0.0.1:${fake.port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return fake;
}

// internal

function handle(fake: FakeModel, req: IncomingMessage, res: ServerResponse, raw: string) {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  let body: Record<string, J> = {};
  try {
    body = raw ? JSON.parse(raw) : {};
  } catch {
    // not JSON
  }
  const log: FakeRequest = { path, prompt: "", body: raw, reply: fake.mode };
  fake.requests.push(log);
  if (fake.mode === "hang") return;
  if (fake.mode === "close") return void req.socket.destroy();
  if (fake.mode === "401" || fake.mode === "500") return sendError(res, path, Number(fake.mode));
  if (req.method === "GET" && /\/models\/?$/.test(path)) {
    return json(res, {
      object: "list",
      data: [{ id: "fake-model", object: "model", created: 0, owned_by: "fake" }],
    });
  }
  if (path.endsWith("/messages/count_tokens")) return json(res, { input_tokens: 123 });
  if (path.endsWith("/messages")) return anthropic(res, body, log);
  if (path.endsWith("/chat/completions")) return chat(res, body, log);
  if (path.endsWith("/responses")) return responses(res, body, log);
  if (path.includes("/models/") && path.includes(":")) return geminiApi(res, body, log, path);
  res.writeHead(404, { "content-type": "application/json" });
  res.end('{"error":{"message":"not found"}}');
}

/** The script: what to do next, given the tools offered and the conversation so far. */
function decide(tools: Tool[], items: Item[], log: FakeRequest, everything: string): Action {
  let last = -1;
  for (let i = 0; i < items.length; i++) if (items[i]!.kind === "user") last = i;
  const prompt = last >= 0 ? items[last]!.text : "";
  log.prompt = prompt;
  const done = items.slice(last + 1).filter((x) => x.kind === "result").length;
  const edit = /EDIT-FILE/.test(prompt);
  const names = tools.map((t) => t.name);
  const write = ["Write", "write", "write_file", "exec_command", "shell", "Bash", "bash"].find((n) =>
    names.includes(n),
  );
  const read = ["Read", "read"].find((n) => names.includes(n));
  const dir = /in (\/[^\s:"\\]+): read and change files/.exec(everything)?.[1];
  const abs = dir ? `${dir}/${FILE}` : FILE;
  const steps: Action[] = [];
  // `ASK-REMOTE agent: q1 || q2`: each question in turn to a remote A2A agent through the Gemini
  // CLI's invoke_agent tool, then a final text quoting the answers as the tool returned them
  const remote = /ASK-REMOTE ([\w-]+): (.+)/.exec(prompt);
  if (remote && names.includes("invoke_agent")) {
    const questions = remote[2]!.split(" || ");
    const answers = items.slice(last + 1).filter((x) => x.kind === "result");
    const action: Action =
      done < questions.length
        ? { kind: "tool", tool: "invoke_agent", args: { agent_name: remote[1], prompt: questions[done] } }
        : { kind: "text", text: `remote answered: ${answers.map((a) => a.text).join(" | ")}` };
    log.reply = action.kind === "tool" ? `tool:${action.tool}` : `text:${action.text}`;
    return action;
  }
  // BeeAI's agents answer only through their final_answer tool (and are done once it is called)
  if (names.includes("final_answer")) {
    const action: Action =
      done === 0
        ? { kind: "tool", tool: "final_answer", args: { response: `created ${FILE}` } }
        : { kind: "text", text: `created ${FILE}` };
    log.reply = action.kind === "tool" ? `tool:${action.tool}` : `text:${action.text}`;
    return action;
  }
  if (write && !/NOTOOL/.test(prompt)) {
    if (edit && read)
      steps.push({
        kind: "tool",
        tool: read,
        args: read === "Read" ? { file_path: abs } : { filePath: abs },
      });
    steps.push({ kind: "tool", tool: write, args: writeArgs(write, abs, edit ? V2 : V1) });
  }
  const action = steps[done] ?? { kind: "text", text: edit ? `edited ${FILE}` : `created ${FILE}` };
  log.reply = action.kind === "tool" ? `tool:${action.tool}` : `text:${action.text}`;
  return action;
}

function writeArgs(tool: string, abs: string, content: string): Record<string, unknown> {
  const sh = `printf '${content.replace(/\n/g, "\\n")}' > ${FILE}`;
  switch (tool) {
    case "Write":
    case "write_file":
      return { file_path: abs, content };
    case "write":
      return { filePath: abs, content };
    case "exec_command":
      return { cmd: sh };
    case "shell":
      return { command: ["bash", "-lc", sh] };
    default:
      return { command: sh, description: `write ${FILE}` };
  }
}

function textOf(c: unknown): string {
  if (typeof c === "string") return c;
  if (Array.isArray(c)) return c.map((b) => (typeof b === "string" ? b : (b?.text ?? ""))).join("\n");
  return "";
}

const USAGE = { in: 123, out: 7 };

function anthropic(res: ServerResponse, body: Record<string, J>, log: FakeRequest) {
  const items: Item[] = (body.messages ?? []).map((m: J) => {
    if (m.role !== "user") return { kind: "other", text: "" };
    const blocks = typeof m.content === "string" ? [{ type: "text", text: m.content }] : (m.content ?? []);
    return blocks.some((b: J) => b.type === "tool_result")
      ? { kind: "result", text: "" }
      : { kind: "user", text: textOf(blocks) };
  });
  const a = decide(body.tools ?? [], items, log, JSON.stringify(body.messages ?? []));
  const block =
    a.kind === "tool"
      ? { type: "tool_use", id: `toolu_${Date.now()}`, name: a.tool, input: a.args }
      : { type: "text", text: a.text };
  const stop = a.kind === "tool" ? "tool_use" : "end_turn";
  const usage = {
    input_tokens: USAGE.in,
    output_tokens: USAGE.out,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  const msg = {
    id: `msg_${Date.now()}`,
    type: "message",
    role: "assistant",
    model: body.model,
    stop_sequence: null,
  };
  if (!body.stream) return json(res, { ...msg, content: [block], stop_reason: stop, usage });
  sseHead(res);
  sse(res, "message_start", {
    type: "message_start",
    message: { ...msg, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
  });
  const start = block.type === "tool_use" ? { ...block, input: {} } : { type: "text", text: "" };
  sse(res, "content_block_start", { type: "content_block_start", index: 0, content_block: start });
  const delta =
    a.kind === "tool"
      ? { type: "input_json_delta", partial_json: JSON.stringify(a.args) }
      : { type: "text_delta", text: a.text };
  sse(res, "content_block_delta", { type: "content_block_delta", index: 0, delta });
  sse(res, "content_block_stop", { type: "content_block_stop", index: 0 });
  sse(res, "message_delta", {
    type: "message_delta",
    delta: { stop_reason: stop, stop_sequence: null },
    usage: { output_tokens: USAGE.out },
  });
  sse(res, "message_stop", { type: "message_stop" });
  res.end();
}

function chat(res: ServerResponse, body: Record<string, J>, log: FakeRequest) {
  const items: Item[] = (body.messages ?? []).map((m: J) =>
    m.role === "tool"
      ? { kind: "result", text: "" }
      : m.role === "user"
        ? { kind: "user", text: textOf(m.content) }
        : { kind: "other", text: "" },
  );
  const tools = (body.tools ?? []).map((t: J) => ({ name: t.function?.name ?? t.name }));
  const a = decide(tools, items, log, JSON.stringify(body.messages ?? []));
  const base = { id: `chatcmpl-${Date.now()}`, created: Math.floor(Date.now() / 1000), model: body.model };
  const usage = { prompt_tokens: USAGE.in, completion_tokens: USAGE.out, total_tokens: USAGE.in + USAGE.out };
  const call =
    a.kind === "tool"
      ? {
          id: `call_${Date.now()}`,
          type: "function",
          function: { name: a.tool, arguments: JSON.stringify(a.args) },
        }
      : undefined;
  if (!body.stream) {
    const message = call
      ? { role: "assistant", content: null, tool_calls: [call] }
      : { role: "assistant", content: (a as { text: string }).text };
    return json(res, {
      ...base,
      object: "chat.completion",
      choices: [{ index: 0, message, finish_reason: call ? "tool_calls" : "stop" }],
      usage,
    });
  }
  sseHead(res);
  const chunk = (delta: unknown, finish: string | null) =>
    sse(res, undefined, {
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  if (call) {
    chunk(
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { index: 0, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } },
        ],
      },
      null,
    );
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] }, null);
    chunk({}, "tool_calls");
  } else {
    chunk({ role: "assistant", content: (a as { text: string }).text }, null);
    chunk({}, "stop");
  }
  sse(res, undefined, { ...base, object: "chat.completion.chunk", choices: [], usage });
  res.write("data: [DONE]\n\n");
  res.end();
}

function responses(res: ServerResponse, body: Record<string, J>, log: FakeRequest) {
  const input =
    typeof body.input === "string"
      ? [{ type: "message", role: "user", content: body.input }]
      : (body.input ?? []);
  const items: Item[] = input.map((it: J) =>
    it.type === "function_call_output" || it.type === "custom_tool_call_output"
      ? { kind: "result", text: "" }
      : (it.type === "message" || !it.type) && it.role === "user"
        ? { kind: "user", text: textOf(it.content) }
        : { kind: "other", text: "" },
  );
  const defs: Tool[] = (body.tools ?? []).map((t: J) => ({ name: t.name ?? t.function?.name, type: t.type }));
  const a = decide(defs, items, log, JSON.stringify(input));
  const n = Date.now();
  const item =
    a.kind === "tool"
      ? {
          type: "function_call",
          id: `fc_${n}`,
          status: "completed",
          call_id: `call_${n}`,
          name: a.tool,
          arguments: JSON.stringify(a.args),
        }
      : {
          type: "message",
          id: `msg_${n}`,
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: a.text, annotations: [] }],
        };
  const usage = {
    input_tokens: USAGE.in,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: USAGE.out,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: USAGE.in + USAGE.out,
  };
  const base = {
    id: `resp_${n}`,
    object: "response",
    created_at: Math.floor(n / 1000),
    model: body.model,
    output: [],
  };
  if (!body.stream) return json(res, { ...base, status: "completed", output: [item], usage });
  sseHead(res);
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) =>
    sse(res, type, { type, sequence_number: seq++, ...data });
  ev("response.created", { response: { ...base, status: "in_progress" } });
  ev("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress" } });
  if (a.kind === "text")
    ev("response.output_text.delta", { item_id: item.id, output_index: 0, content_index: 0, delta: a.text });
  ev("response.output_item.done", { output_index: 0, item });
  ev("response.completed", { response: { ...base, status: "completed", output: [item], usage } });
  res.end();
}

function geminiApi(res: ServerResponse, body: Record<string, J>, log: FakeRequest, path: string) {
  const method = /:(\w+)$/.exec(path)?.[1] ?? "";
  if (method === "countTokens") return json(res, { totalTokens: USAGE.in });
  const items: Item[] = (body.contents ?? []).map((c: J) => {
    const parts = c.parts ?? [];
    const fr = parts.find((p: J) => p.functionResponse)?.functionResponse;
    if (fr) return { kind: "result", text: JSON.stringify(fr.response ?? {}) };
    if (c.role === "user") return { kind: "user", text: parts.map((p: J) => p.text ?? "").join("\n") };
    return { kind: "other", text: "" };
  });
  const g = body.generationConfig ?? {};
  const wantsJson = g.responseMimeType === "application/json" || g.responseJsonSchema || g.responseSchema;
  const decls = (body.tools ?? []).flatMap((t: J) => t.functionDeclarations ?? []);
  const a = decide(wantsJson ? [] : decls, items, log, JSON.stringify(body.contents ?? []));
  // HOLD-MODEL in the prompt: a model that thinks until the client gives up (cancel tests)
  if (/HOLD-MODEL/.test(log.prompt)) return;
  const parts = wantsJson
    ? [
        {
          text: JSON.stringify({
            reasoning: "fake",
            model_choice: "flash",
            complexity_reasoning: "simple",
            complexity_score: 1,
            next_speaker: "user",
          }),
        },
      ]
    : a.kind === "tool"
      ? [{ functionCall: { name: a.tool, args: a.args } }]
      : [{ text: a.text }];
  const out = {
    candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
    usageMetadata: {
      promptTokenCount: USAGE.in,
      candidatesTokenCount: USAGE.out,
      totalTokenCount: USAGE.in + USAGE.out,
    },
    modelVersion: "fake",
  };
  if (method !== "streamGenerateContent") return json(res, out);
  sseHead(res);
  sse(res, undefined, out);
  res.end();
}

function sendError(res: ServerResponse, path: string, status: number) {
  const auth = status === 401;
  const body = path.includes("/messages")
    ? {
        type: "error",
        error: {
          type: auth ? "authentication_error" : "api_error",
          message: auth ? "invalid x-api-key" : "Internal server error",
        },
      }
    : path.includes("v1beta")
      ? {
          error: {
            code: status,
            message: auth ? "API key not valid." : "Internal error",
            status: auth ? "UNAUTHENTICATED" : "INTERNAL",
          },
        }
      : {
          error: {
            message: auth ? "Incorrect API key provided" : "Internal server error",
            type: auth ? "invalid_request_error" : "server_error",
            code: auth ? "invalid_api_key" : null,
          },
        };
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function json(res: ServerResponse, v: unknown) {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(v));
}

function sseHead(res: ServerResponse) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
}

function sse(res: ServerResponse, event: string | undefined, data: unknown) {
  if (event) res.write(`event: ${event}\n`);
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}
