// The ceiling on this machine: a bare Bun HTTP server answering a fixed JSON-RPC body.
const body = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  result: { task: { id: "t", contextId: "c", status: { state: "TASK_STATE_COMPLETED" } } },
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  fetch: async (req) => {
    await req.arrayBuffer();
    return new Response(body, { headers: { "content-type": "application/json" } });
  },
});
console.log(`listening on http://127.0.0.1:${server.port}`);
