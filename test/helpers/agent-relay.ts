import { startTestRelay, type TestRelay } from "./relay.ts";

/** An upstream agent behind an `a2a` profile of `startAgentRelay`. */
export interface AgentProfile {
  url: string;
  /** `protocol` of the profile ("1.0" when not given). */
  protocol?: "1.0" | "0.3";
  /** `card_url`, for an agent that serves its card elsewhere than its origin's well-known path. */
  cardUrl?: string;
}

/**
 * The relay of the other-people's-software suites: peer `local` (its token in `r.token`) may use
 * every profile; profile `echo`, and one `a2a` profile per entry of `agents`; `server` adds keys to
 * `[server]`, `peer` to `[peers.local]`; `insecureNoAuth` lets clients that cannot send a
 * credential in (as peer "anonymous").
 */
export function startAgentRelay(
  agents: Record<string, AgentProfile>,
  extra: { server?: string; peer?: string; insecureNoAuth?: boolean } = {},
): Promise<TestRelay> {
  const profiles = Object.entries(agents).map(
    ([name, a]) =>
      `[profiles.${name}]\nhandler = "a2a"\nurl = "${a.url}"\nprotocol = "${a.protocol ?? "1.0"}"\nturn_timeout_s = 60\n${a.cardUrl ? `card_url = "${a.cardUrl}"\n` : ""}`,
  );
  return startTestRelay({
    toml: `${extra.server ? `[server]\n${extra.server}\n` : ""}[peers.local]
profiles = ["*"]
default_profile = "echo"
${extra.peer ?? ""}
[profiles.echo]
handler = "echo"
${profiles.join("")}`,
    env: { A2A_OC_TOKEN_LOCAL: "local-token-0123456789abcdef" },
    ...(extra.insecureNoAuth ? { insecureNoAuth: true } : {}),
  });
}
