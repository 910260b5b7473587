import type { ProfileConfig } from "../config/schema.ts";
import type { FetchFn } from "../fetch.ts";
import type { SelfIdentity } from "../routing/self.ts";
import type { UpstreamCards } from "../routing/upstream-card.ts";
import type { SessionStore } from "../store/sessions.ts";
import type { Postbacks } from "./a2a/postbacks.ts";

/** What forwarding receivers (`a2a`, `remote`, `llm`) need from the relay. */
export interface RoutingDeps {
  /** Environment to read outbound credentials from (`token_env`, `api_key_env`, A2A_OC_TOKEN_*). */
  env: Record<string, string | undefined>;
  fetch: FetchFn;
  /** The sessions store; undefined until the database is open. */
  sessions: () => SessionStore | undefined;
  self: SelfIdentity;
  /** Upstream cards (`binding = "auto"`); absent: JSON-RPC. */
  cards?: UpstreamCards;
  /** Where port leases live (`lease = NAME` profiles). */
  lockDir: string;
  /**
   * Hook for remote profiles: the auth module's `outboundCredential` (`auth = "jwt"`: a JWT signed
   * with this relay's key; `auth = "token"`: the token chain), returning the `Authorization` value.
   * When absent, `auth = "token"` is resolved here and `auth = "jwt"` fails the turn.
   */
  outboundCredential?: (profile: ProfileConfig, remoteId: string) => Promise<string>;
  /** A profile's fetch for https upstreams with its own CAs or client certificate (else `fetch`). */
  tlsFetch?: (profile: string) => FetchFn | undefined;
  /** Warnings of forwarding receivers (an upstream cancel given up, a write that failed). */
  log?: (fields: Record<string, unknown>, msg: string) => void;
  /** How long an upstream has to accept a connection (`server.connect_timeout_s`; default 5 s). */
  connectTimeoutMs?: number;
  /** Where queued receivers' post-backs meet the turns waiting for them (`reply_peer` profiles). */
  postbacks?: Postbacks;
}
