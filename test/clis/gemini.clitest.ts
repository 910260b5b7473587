import { cliSuite } from "./harness.ts";

// Gemini CLI: GOOGLE_GEMINI_BASE_URL is the root (it appends /v1beta/models/...).
cliSuite({ handler: "gemini", baseUrl: (root) => root });
