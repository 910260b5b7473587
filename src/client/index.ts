export { type CardSummary, cardUrl, type FetchedCard, fetchCard, validateCard } from "./card.ts";
export { type CallScope, callScope, connect, timeoutMs } from "./connect.ts";
export { fromFetchFailure, fromHttpStatus, fromWireError } from "./errors.ts";
export { eventLine, finalText, parseState, stateName, table, taskRow } from "./format.ts";
export {
  A2AClient,
  type CallOptions,
  type ClientOptions,
  createClient,
  type FetchLike,
  type SendResult,
} from "./rpc.ts";
export { readSse, type SseEvent } from "./sse.ts";
export { DEFAULT_RELAY_URL, isLoopback, relayBase, resolveTarget } from "./target.ts";
