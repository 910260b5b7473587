-- wrk script: blocking SendMessage with a bearer token and a unique messageId per request
-- (the relay deduplicates retried messageIds, so a fixed body would measure only the lookup).
-- Env: BENCH_PATH (default "/"), BENCH_TOKEN (optional).
-- Every answer is checked: only a completed task counts (HTTP 200, TASK_STATE_COMPLETED, no JSON-RPC
-- error); anything else is counted as failed. JSON-RPC errors come back as HTTP 200, so wrk's own
-- status count alone would score a relay that refused everything as fast as one that ran it all.
local path = os.getenv("BENCH_PATH") or "/"
local token = os.getenv("BENCH_TOKEN")
-- BENCH_TOKENS_FILE: one single-use credential (a JWT) a line; each thread takes every Nth line
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  completed = 0
  failed = 0
  prefix = string.format("%d-%d-%d", os.time(), math.random(1, 1e9), tid or 0)
  tokens = nil
  if tokens_file then
    tokens = {}
    local i = 0
    for line in io.lines(tokens_file) do
      if i % nthreads == (tid or 0) then tokens[#tokens + 1] = line end
      i = i + 1
    end
  end
end

function request()
  counter = counter + 1
  local body = '{"jsonrpc":"2.0","id":' .. counter .. ',"method":"SendMessage","params":{"message":{"messageId":"'
    .. prefix .. '-' .. counter .. '","role":"ROLE_USER","parts":[{"text":"hello bench"}]}}}'
  local headers = { ["Content-Type"] = "application/json", ["A2A-Version"] = "1.0" }
  if tokens then
    headers["Authorization"] = "Bearer " .. (tokens[counter] or "exhausted")
  elseif token then
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"TASK_STATE_COMPLETED"', 1, true) and not string.find(body, '"error"', 1, true) then
    completed = completed + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("completed") or 0)
    bad = bad + (t:get("failed") or 0)
  end
  io.write(string.format("BENCH_JSON {\"requests\":%d,\"completed\":%d,\"failed\":%d,\"duration_us\":%d,\"errors\":%d,\"non2xx\":%d,\"p50_us\":%d,\"p99_us\":%d,\"mean_us\":%.1f}\n",
    summary.requests, ok, bad, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.mean))
end
