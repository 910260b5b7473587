/**
 * The import rules of src/ (docs/architecture.md describes the layers): run by `npm run check:deps`,
 * part of `npm test` (scripts/check-deps.mjs reads the result and also fails on a cycle between folders).
 * Lower layers never import higher ones, and no module imports itself back.
 */
const BASE = "^src/(a2a|config)/|^src/(errors|host-errors|ids|logger|log-sink|version|fetch|clock|prom-text|metrics)[.]ts$";
const DOMAIN = "^src/(auth|brief|routing|receivers|tasks|transcripts|push|budgets)/";
const FRONT = "^src/(http|status|client|cli|server)/|^src/(server|main|tls-rotation|deno-permissions)[.]ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Imports point one way: no module imports itself back, directly or through others.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "base-imports-base",
      severity: "error",
      comment: "a2a/, config/ and the top-level helpers (errors, ids, logger, fetch, ...) are the base.",
      from: { path: BASE },
      to: { path: "^src/", pathNot: BASE },
    },
    {
      name: "runtime-imports-base",
      severity: "error",
      comment:
        "runtime/ is the Bun/Deno seam: only the base below it.",
      from: { path: "^src/runtime/" },
      to: { path: "^src/", pathNot: `${BASE}|^src/runtime/` },
    },
    {
      name: "portlock-below-store",
      severity: "error",
      comment: "portlock/ (band leases) uses the runtime and the base only.",
      from: { path: "^src/portlock/" },
      to: { path: "^src/", pathNot: `${BASE}|^src/(runtime|portlock)/` },
    },
    {
      name: "store-below-domain",
      severity: "error",
      comment: "store/ (schema, migrations, writer) knows nothing of tasks, receivers or the front doors.",
      from: { path: "^src/store/" },
      to: { path: "^src/", pathNot: `${BASE}|^src/(runtime|portlock|store)/` },
    },
    {
      name: "domain-below-front-doors",
      severity: "error",
      comment: "The domain folders never import the HTTP front doors, the CLI, the client or server.ts.",
      from: { path: DOMAIN },
      to: { path: FRONT },
    },
    {
      name: "routing-below-receivers",
      severity: "error",
      comment: "routing/ (hops, self, upstream cards) is used by receivers/, never the reverse way.",
      from: { path: "^src/routing/" },
      to: { path: "^src/(auth|receivers|tasks|transcripts|push|budgets)/" },
    },
    {
      name: "receivers-below-tasks",
      severity: "error",
      comment: "receivers/ run turns; tasks/, budgets/, push/ and transcripts/ use them, not the reverse.",
      from: { path: "^src/receivers/" },
      to: { path: "^src/(auth|tasks|transcripts|push|budgets)/" },
    },
    {
      name: "tasks-know-no-policies",
      severity: "error",
      comment: "The engine is given admission (budgets), an event sink (push) and hooks (transcripts).",
      from: { path: "^src/tasks/" },
      to: { path: "^src/(auth|transcripts|push|budgets)/" },
    },
    {
      name: "status-below-http",
      severity: "error",
      comment: "status/ (the status page) is mounted by http/app.ts and never imports http/ back.",
      from: { path: "^src/status/" },
      to: { path: "^src/http/" },
    },
    {
      name: "http-below-cli",
      severity: "error",
      comment: "http/ builds the app from its deps; server.ts and the CLI wire it.",
      from: { path: "^src/http/" },
      to: { path: "^src/(cli|client)/|^src/(server|main)[.]ts$" },
    },
    {
      name: "client-below-cli",
      severity: "error",
      comment: "client/ (the CLI's A2A client) is used by cli/, never the reverse way.",
      from: { path: "^src/client/" },
      to: { path: "^src/(cli|http)/|^src/(server|main)[.]ts$" },
    },
    {
      name: "main-is-the-entry",
      severity: "error",
      comment: "Nothing imports main.ts.",
      from: { path: "^src/" },
      to: { path: "^src/main[.]ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "(^|/)node_modules/" },
  },
};
