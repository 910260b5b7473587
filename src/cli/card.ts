import { fetchCard } from "../client/card.ts";
import { callScope } from "../client/connect.ts";
import { REACH_HELP, REACH_OPTIONS, reach } from "../client/reach.ts";
import type { ClientDeps } from "../client/rpc.ts";
import { UsageError } from "../errors.ts";
import { type Command, flags } from "./io.ts";

const USAGE = `a2a-relay card [URL|PROFILE] [--protocol 1.0|0.3] [--json] [--url URL | --relay NAME] [--config F]

  URL         an agent's base URL (reads URL/.well-known/agent-card.json) or a card's .json URL
  PROFILE     a profile of the relay (see below): reads <relay>/a2a/PROFILE/.well-known/agent-card.json
              (neither: the relay's own card)
  --protocol  1.0 (default) sends A2A-Version: 1.0; 0.3 sends no version header, which makes
              servers that speak both (this relay does) answer with their v0.3 card
  --json      print the card as fetched

Validates the card as A2A v1.0 (supportedInterfaces) or v0.3 (url, protocolVersion) and prints a
summary: name, version, interfaces, skills, security. Exit 1 names what is wrong with an invalid
card; exit 6 when the agent cannot be reached. Cards are public: no credential is sent.

${REACH_HELP}

Examples:
  a2a-relay card http://127.0.0.1:9200/a2a/echo/
  a2a-relay card echo --relay hermes-b`;

export function cardCommand(deps: ClientDeps = {}): Command {
  return {
    name: "card",
    summary: "fetch and validate an agent card (v1.0 or v0.3)",
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = flags(argv, {
        protocol: { type: "string" },
        json: { type: "boolean" },
        ...REACH_OPTIONS,
      });
      const [arg, ...extra] = positionals;
      if (extra.length) throw new UsageError(`card takes one URL or PROFILE\nusage: ${USAGE.split("\n")[0]}`);
      let url = arg ?? "";
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
        const r = reach(values, io.env);
        if (values.verbose) io.err(`relay: ${r.base} (from ${r.baseFrom})\n`);
        if (url && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(url)) {
          throw new UsageError(`card: "${url}" is neither an http(s) URL nor a profile name`);
        }
        url = url ? `${r.base}/a2a/${url}/` : `${r.base}/`;
      }
      const protocol = values.protocol ?? "1.0";
      if (protocol !== "1.0" && protocol !== "0.3") {
        throw new UsageError(`--protocol: "${protocol}" must be 1.0 or 0.3`);
      }
      const scope = callScope(io.stopSignal, () => undefined);
      const got = await fetchCard(url, {
        protocol,
        signal: scope.signal,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      }).finally(scope.done);
      if (values.json) {
        io.out(`${JSON.stringify(got.card, null, 2)}\n`);
        return 0;
      }
      const s = got.summary;
      const lines = [
        `valid A2A v${s.protocol} agent card from ${got.url}`,
        `  name:        ${s.name}`,
        `  description: ${s.description}`,
        `  version:     ${s.version}`,
        `  streaming:   ${s.streaming ? "yes" : "no"}`,
        "  interfaces:",
        ...s.interfaces.map((i) => `    ${i.binding} ${i.protocolVersion}  ${i.url}`),
        `  skills:${s.skills.length ? "" : "      (none)"}`,
        ...s.skills.map((k) => `    ${k.id}${k.name !== k.id ? ` (${k.name})` : ""}: ${k.description}`),
        `  security:    ${s.security.length ? s.security.join(", ") : "(none declared)"}`,
      ];
      io.out(`${lines.join("\n")}\n`);
      return 0;
    },
  };
}

export const card = cardCommand();
