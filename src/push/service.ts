import { z } from "zod";
import type { StreamResponse, Task } from "../a2a/types.ts";
import { invalidParams, taskNotFound } from "../errors.ts";
import type { Writer } from "../store/writer.ts";
import type { PushDeliverer } from "./deliverer.ts";
import type { PushConfig, PushStore } from "./store.ts";
import { checkPushTarget } from "./targets.ts";

const PushConfigInput = z.object({
  id: z.string().min(1).max(128).optional(),
  url: z.string().min(1).max(2048),
  token: z.string().max(4096).optional(),
  authentication: z
    .object({ scheme: z.string().min(1).max(64), credentials: z.string().max(8192).optional() })
    .optional(),
});

export interface PushServiceDeps {
  store: PushStore;
  writer: Writer;
  deliverer: PushDeliverer;
  /** The `push_hosts` allow-list of a peer (undefined: push disabled for it). */
  allowFor: (peer: string) => readonly string[] | undefined;
  now?: () => number;
  newId?: () => string;
}

/** Push configs of tasks: validation against the peer's allow-list, persistence, delivery. */
export class PushService {
  readonly #d: Required<PushServiceDeps>;

  constructor(d: PushServiceDeps) {
    this.#d = { now: Date.now, newId: () => crypto.randomUUID(), ...d };
  }

  /** Whether `peer` may use push notifications at all (it has a `push_hosts` allow-list). */
  enabledFor(peer: string): boolean {
    return (this.#d.allowFor(peer)?.length ?? 0) > 0;
  }

  /** Validate a config for `peer` (throws -32602 naming the field). Pure apart from the clock. */
  prepare(peer: string, taskId: string, input: unknown, field = "pushNotificationConfig"): PushConfig {
    const r = PushConfigInput.safeParse(input);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw invalidParams(`${field}.${i.path.join(".")}: ${i.message}`, `${field}.${i.path.join(".")}`);
    }
    const c = r.data;
    checkPushTarget(c.url, this.#d.allowFor(peer), `${field}.url`);
    return {
      taskId,
      id: c.id ?? this.#d.newId(),
      url: c.url,
      ...(c.token ? { token: c.token } : {}),
      ...(c.authentication ? { authentication: c.authentication } : {}),
    };
  }

  /** Synchronous write, for use inside another writer op (task creation). */
  putSync(peer: string, c: PushConfig): void {
    this.#d.store.put(peer, c, this.#d.now());
  }

  async put(peer: string, c: PushConfig): Promise<PushConfig> {
    await this.#d.writer.run(() => this.#d.store.put(peer, c, this.#d.now()));
    return c;
  }

  get(taskId: string, id: string): PushConfig {
    const c = this.#d.store.get(taskId, id);
    if (!c) throw taskNotFound(`${taskId} (push config ${id})`);
    return c;
  }

  list(taskId: string): PushConfig[] {
    return this.#d.store.list(taskId);
  }

  /** Idempotent: deleting a config that is already gone succeeds (the task's owner was checked). */
  async delete(taskId: string, id: string): Promise<void> {
    await this.#d.writer.run(() => this.#d.store.delete(taskId, id));
  }

  /** Inside the transaction that records a task event. Returns whether anything was queued. */
  enqueue(taskId: string, event: StreamResponse, task: Task): boolean {
    return this.#d.store.enqueue(taskId, event, task, this.#d.now()) > 0;
  }

  /** After the commit of queued deliveries. */
  poke(): void {
    this.#d.deliverer.poke();
  }

  recent(limit = 100) {
    return this.#d.store.recent(limit);
  }
}
