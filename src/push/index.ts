import type { Task } from "../a2a/types.ts";
import type { ResolvedPeer } from "../config/load.ts";
import type { FetchFn } from "../fetch.ts";
import type { Logger } from "../logger.ts";
import type { Drizzle } from "../store/db.ts";
import type { Writer } from "../store/writer.ts";
import type { EventSink } from "../tasks/engine.ts";
import { PushDeliverer } from "./deliverer.ts";
import { PushService } from "./service.ts";
import { PushStore } from "./store.ts";

export { PushDeliverer } from "./deliverer.ts";
export { PushService } from "./service.ts";

/** Push notifications for one relay: configs, the durable outbox, and its deliverer. */
export function createPush(d: {
  db: Drizzle;
  writer: Writer;
  peers: Record<string, ResolvedPeer>;
  fetch?: FetchFn;
  logger: Logger;
  maxAttempts?: number;
  retryBaseMs?: number;
  local?: (peer: string, profile: string, task: Task) => Promise<void>;
}): { service: PushService; deliverer: PushDeliverer; sink: EventSink } {
  const store = new PushStore(d.db);
  const deliverer = new PushDeliverer({
    store,
    writer: d.writer,
    ...(d.fetch ? { fetch: d.fetch } : {}),
    ...(d.maxAttempts ? { maxAttempts: d.maxAttempts } : {}),
    ...(d.retryBaseMs ? { baseDelayMs: d.retryBaseMs } : {}),
    ...(d.local ? { local: d.local } : {}),
    onError: (row, error, final) =>
      d.logger[final ? "warn" : "info"](
        { task: row.taskId, config: row.configId, attempts: row.attempts + 1, error },
        final ? "push delivery given up" : "push delivery failed; will retry",
      ),
  });
  const service = new PushService({
    store,
    writer: d.writer,
    deliverer,
    allowFor: (peer) => (Object.hasOwn(d.peers, peer) ? d.peers[peer]?.push_hosts : undefined),
  });
  return {
    service,
    deliverer,
    sink: {
      written: (taskId, event, task) => service.enqueue(taskId, event, task),
      committed: () => service.poke(),
    },
  };
}
