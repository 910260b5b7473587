import { and, eq, sql } from "drizzle-orm";
import type { Drizzle } from "./db.ts";
import { sessions } from "./schema.ts";
import type { Writer } from "./writer.ts";

/** Which conversation a CLI session belongs to: one per (profile, peer, A2A contextId). */
export interface SessionKey {
  profile: string;
  peer: string;
  contextId: string;
}

export interface StoredSession {
  /** The CLI's own session id (Claude/Gemini uuid, Codex thread id, OpenCode ses_…, agy conversation). */
  sessionId: string;
  /** Receiver-specific state, e.g. Antigravity's last printed output. */
  data?: Record<string, unknown>;
  updatedAt: number;
}

/** The coding CLIs' sessions, kept in SQLite so a conversation survives a relay restart. */
export interface SessionStore {
  get(key: SessionKey): StoredSession | undefined;
  put(key: SessionKey, sessionId: string, data?: Record<string, unknown>): Promise<void>;
  /** A profile's entries whose contextId starts with `prefix` (a receiver's own bookkeeping). */
  withPrefix?(profile: string, prefix: string): Array<SessionKey & StoredSession>;
  remove?(key: SessionKey): Promise<void>;
}

/**
 * Reads go straight to the database; writes go through the group-commit writer. Both run on
 * every forwarded or CLI turn: prepared once, at first use (an echo-only relay never needs them).
 */
export class SessionRepo implements SessionStore {
  readonly #writer: Writer;
  readonly #now: () => number;
  #prepared: ReturnType<typeof prepare> | undefined;
  readonly #db: Drizzle;

  constructor(db: Drizzle, writer: Writer, now: () => number = Date.now) {
    this.#db = db;
    this.#writer = writer;
    this.#now = now;
  }

  get #q(): ReturnType<typeof prepare> {
    this.#prepared ??= prepare(this.#db);
    return this.#prepared;
  }

  get(key: SessionKey): StoredSession | undefined {
    const row = this.#q.get.get({ profile: key.profile, peer: key.peer, ctx: key.contextId });
    if (!row) return undefined;
    return {
      sessionId: row.sessionId,
      ...(row.dataJson ? { data: JSON.parse(row.dataJson) as Record<string, unknown> } : {}),
      updatedAt: row.updatedAt,
    };
  }

  async put(key: SessionKey, sessionId: string, data?: Record<string, unknown>): Promise<void> {
    const values = {
      sessionId,
      dataJson: data === undefined ? null : JSON.stringify(data),
      updatedAt: this.#now(),
    };
    await this.#writer.run(() => {
      this.#q.put.run({ profile: key.profile, peer: key.peer, ctx: key.contextId, ...values });
    });
  }

  withPrefix(profile: string, prefix: string): Array<SessionKey & StoredSession> {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.#db
      .select()
      .from(sessions)
      .where(and(eq(sessions.profile, profile), sql`${sessions.contextId} LIKE ${`${escaped}%`} ESCAPE '\\'`))
      .all()
      .map((row) => ({
        profile: row.profile,
        peer: row.peer,
        contextId: row.contextId,
        sessionId: row.sessionId,
        ...(row.dataJson ? { data: JSON.parse(row.dataJson) as Record<string, unknown> } : {}),
        updatedAt: row.updatedAt,
      }));
  }

  async remove(key: SessionKey): Promise<void> {
    await this.#writer.run(() => {
      this.#db
        .delete(sessions)
        .where(
          and(
            eq(sessions.profile, key.profile),
            eq(sessions.peer, key.peer),
            eq(sessions.contextId, key.contextId),
          ),
        )
        .run();
    });
  }
}

/** The two statements of every forwarded or CLI turn. */
function prepare(db: Drizzle) {
  const P = sql.placeholder;
  const get = db
    .select()
    .from(sessions)
    .where(
      and(eq(sessions.profile, P("profile")), eq(sessions.peer, P("peer")), eq(sessions.contextId, P("ctx"))),
    )
    .prepare();
  const values = {
    sessionId: sql`${P("sessionId")}`,
    dataJson: sql`${P("dataJson")}`,
    updatedAt: sql`${P("updatedAt")}`,
  };
  const put = db
    .insert(sessions)
    .values({ profile: P("profile"), peer: P("peer"), contextId: P("ctx"), ...values })
    .onConflictDoUpdate({ target: [sessions.profile, sessions.peer, sessions.contextId], set: values })
    .prepare();
  return { get, put };
}
