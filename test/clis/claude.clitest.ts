import { cliSuite } from "./harness.ts";

// Claude Code: ANTHROPIC_BASE_URL is the root (it appends /v1/messages).
cliSuite({ handler: "claude", baseUrl: (root) => root });
