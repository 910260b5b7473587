import { statSync } from "node:fs";
import { relayKeyPath } from "../auth/keys.ts";
import { type Config, readSecretFile } from "../config/load.ts";

/**
 * What `config check` (the static subset) and `doctor` (everything) look at: each check is one
 * line, ok / warn / fail, a fail naming what to fix.
 */
export interface Check {
  status: "ok" | "warn" | "fail";
  what: string;
  /** What to do about a warn or fail. */
  fix?: string;
  /** The problem is a variable not set in this environment. */
  env?: true;
}

/**
 * Checks that read only the config, the environment and local files. A variable that is not set
 * is a fail for `doctor` (the environment it runs in is the relay's) and a warn for `config
 * check` (which may run where the secrets are not).
 */
export function staticChecks(
  c: Config,
  env: Record<string, string | undefined>,
  o: { envMissing: "fail" | "warn" } = { envMissing: "fail" },
): Check[] {
  const soften = (k: Check): Check => (k.status === "fail" && k.env ? { ...k, status: o.envMissing } : k);
  return [...peerChecks(c), ...profileChecks(c, env)].map(soften);
}

/** One line per check, and the exit code: 0 unless something failed. */
export function printChecks(checks: Check[], out: (t: string) => void): number {
  for (const k of checks) {
    out(`${k.status.padEnd(4)}  ${k.what}${k.fix ? `\n      → ${k.fix}` : ""}\n`);
  }
  const failed = checks.filter((k) => k.status === "fail").length;
  const warned = checks.filter((k) => k.status === "warn").length;
  out(`${failed ? `${failed} failed` : "no failures"}${warned ? `, ${warned} warning(s)` : ""}\n`);
  return failed ? 2 : 0;
}

// internal

function peerChecks(c: Config): Check[] {
  const out: Check[] = [];
  for (const p of Object.values(c.peers)) {
    const cred = p.credential;
    if (cred.resolved) {
      out.push({ status: "ok", what: `peer ${p.name}: token from ${cred.source}` });
    } else if (p.builtin && cred.error?.endsWith("does not exist")) {
      out.push({
        status: "ok",
        what: `peer ${p.name}: token file ${cred.source.slice(5)} is created at the first serve`,
      });
    } else if (p.jwtKey?.resolved) {
      out.push({ status: "ok", what: `peer ${p.name}: no token (${cred.error}); JWTs only` });
    } else {
      out.push({
        status: "fail",
        ...(cred.source.startsWith("env:") ? { env: true as const } : {}),
        what: `peer ${p.name}: no usable credential: ${cred.error}`,
        fix: cred.error?.includes("chmod")
          ? `chmod 600 ${cred.source.slice(5)}`
          : `set ${cred.source.startsWith("env:") ? cred.source.slice(4) : "the token"}, or peers.${p.name}.token_file (mode 0600)`,
      });
    }
    if (p.jwtKey && !p.jwtKey.resolved) {
      out.push({
        status: "fail",
        what: `peer ${p.name}: JWT key ${p.jwtKey.source} not usable: ${p.jwtKey.error}`,
        fix: `fix peers.${p.name}.jwt (${p.jwtKey.kind})`,
      });
    }
  }
  return out;
}

function profileChecks(c: Config, env: Record<string, string | undefined>): Check[] {
  const out: Check[] = [];
  const keyPath = relayKeyPath(c.server.dataDir);
  for (const [name, p] of Object.entries(c.profiles)) {
    if (p.remote && p.auth === "jwt") {
      const key = readSecretFile(keyPath);
      out.push(
        key.ok
          ? { status: "ok", what: `profile ${name}: signing key ${keyPath} for auth = "jwt"` }
          : {
              status: "fail",
              what: `profile ${name}: auth = "jwt" needs this relay's signing key: ${key.error}`,
              fix: key.error.includes("chmod")
                ? `chmod 600 ${keyPath}`
                : `a2a-relay keygen --data-dir ${c.server.dataDir}`,
            },
      );
    }
    if (p.remote && p.auth === "token" && p.token_env) {
      out.push(envCheck(name, "token_env", p.token_env, env));
    }
    if (p.handler === "a2a" && p.token_env) out.push(envCheck(name, "token_env", p.token_env, env));
    if (p.handler === "llm" && p.api_key_env) out.push(envCheck(name, "api_key_env", p.api_key_env, env));
    if (p.workdir) {
      try {
        statSync(p.workdir);
        out.push({ status: "ok", what: `profile ${name}: workdir ${p.workdir}` });
      } catch {
        out.push({ status: "fail", what: `profile ${name}: workdir ${p.workdir} is missing` });
      }
    }
  }
  return out;
}

function envCheck(
  profile: string,
  key: string,
  name: string,
  env: Record<string, string | undefined>,
): Check {
  return env[name]?.trim()
    ? { status: "ok", what: `profile ${profile}: ${key} ${name} is set` }
    : {
        status: "fail",
        env: true,
        what: `profile ${profile}: ${key} ${name} is not set`,
        fix: `export ${name}=… in the relay's environment (systemd: Environment= or EnvironmentFile=)`,
      };
}
