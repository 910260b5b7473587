import { cliSuite } from "./harness.ts";

// Codex: a Responses endpoint under /v1; an unknown model name makes it offer exec_command.
cliSuite({ handler: "codex", baseUrl: (root) => `${root}/v1`, model: "fake-model" });
