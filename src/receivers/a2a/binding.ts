import type { ProfileConfig } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";
import { cardUrl, olderOnly, type UpstreamCards } from "../../routing/upstream-card.ts";
import { TurnFailure } from "./fold.ts";
import type { Binding } from "./wire.ts";

/**
 * `binding = "auto" | "jsonrpc" | "rest"` of `a2a` and `remote` profiles. REST (HTTP+JSON) is an
 * A2A v1.0 binding: with `protocol = "0.3"` or `"hermes-fleet"` it is a config error.
 */
export function checkBinding(name: string, p: ProfileConfig): void {
  if (p.binding === "rest" && !p.remote && p.protocol !== "1.0") {
    throw new ConfigError(
      `profiles.${name}.binding: "rest" (HTTP+JSON) needs protocol = "1.0"; this profile speaks "${p.protocol}"`,
    );
  }
}

/**
 * The binding and endpoint of one turn. "auto" reads the upstream's card (cached; bounded by the
 * cards' timeout): JSON-RPC when it offers a v1.0 JSON-RPC interface, else HTTP+JSON when it
 * offers that; no readable card (or no v1.0 interface listed) means JSON-RPC. The card's URL for the
 * chosen interface is used only on the configured URL's origin (the credential never goes
 * elsewhere); otherwise the configured URL is. A card that offers only an older A2A (v0.3) gives
 * a `hint` for the turn's failure, should the upstream refuse v1.0.
 */
export async function chooseBinding(
  name: string,
  p: ProfileConfig,
  url: string,
  cards: UpstreamCards | undefined,
  signal?: AbortSignal,
): Promise<{ binding: Binding; url: string; hint?: string }> {
  if (p.binding === "jsonrpc" || p.binding === "rest") return { binding: p.binding, url };
  if ((!p.remote && p.protocol !== "1.0") || !cards) return { binding: "jsonrpc", url };
  const where = cardUrl(name, p, url);
  const card = where ? await cards.card(where, signal) : undefined;
  if (!card?.interfaces.length) return { binding: "jsonrpc", url };
  const v1 = card.interfaces.filter((i) => i.version === "" || i.version.startsWith("1"));
  const older = p.remote ? undefined : olderOnly(card);
  if (older) {
    const hint = `its card (${where}) offers A2A ${older} only and this profile speaks 1.0: set protocol = "0.3" on profiles.${name}`;
    return { binding: "jsonrpc", url, hint };
  }
  if (!v1.length) return { binding: "jsonrpc", url };
  const rpc = v1.find((i) => i.binding.toUpperCase() === "JSONRPC");
  if (rpc) return { binding: "jsonrpc", url: sameOrigin(rpc.url, url) ? rpc.url : url };
  const rest = v1.find((i) => i.binding.toUpperCase() === "HTTP+JSON" || i.binding.toUpperCase() === "REST");
  if (rest) return { binding: "rest", url: sameOrigin(rest.url, url) ? rest.url : url };
  throw new TurnFailure(
    `profiles.${name}: the upstream's card offers neither a v1.0 JSON-RPC nor an HTTP+JSON interface (${card.interfaces
      .map((i) => `${i.binding} ${i.version}`.trim())
      .join(", ")}); set binding`,
  );
}

// internal

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
