import { cliSuite } from "./harness.ts";

// OpenCode: an OpenAI-compatible chat-completions endpoint under /v1 (provider "relay" in opencode.json).
cliSuite({ handler: "opencode", baseUrl: (root) => `${root}/v1`, model: "fake-model" });
