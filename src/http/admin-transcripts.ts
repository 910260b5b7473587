import { Hono } from "hono";
import { invalidParams } from "../errors.ts";
import { readTranscript } from "../transcripts/reader.ts";
import type { AppEnv } from "./types.ts";

/** `GET /admin/transcripts/{peer}?profile=&context=&limit=` (mounted under the admin guard). */
export function transcriptRoutes(root: string): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/:peer", (c) => {
    const peer = c.req.param("peer");
    const limitText = c.req.query("limit") ?? "500";
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
      throw invalidParams(`limit must be an integer from 1 to 100000, got "${limitText}"`, "limit");
    }
    const lines = readTranscript(root, peer, {
      profile: c.req.query("profile") || undefined,
      context: c.req.query("context") || undefined,
      limit,
    });
    return c.json({ peer, lines });
  });
  return app;
}
