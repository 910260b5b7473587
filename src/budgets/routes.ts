import { Hono } from "hono";
import type { AppEnv } from "../http/types.ts";
import type { Budgets } from "./ledger.ts";

/** `GET /admin/budgets`, `GET /admin/budgets/{peer}`, `POST /admin/budgets/{peer}/reset`. */
export function budgetRoutes(budgets: Budgets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => c.json({ budgets: budgets.report() }));
  app.get("/:peer", (c) => {
    const r = budgets.reportFor(c.req.param("peer"));
    return r ? c.json(r) : c.json({ error: `peer "${c.req.param("peer")}" has no budget` }, 404);
  });
  app.post("/:peer/reset", async (c) => {
    const r = await budgets.reset(c.req.param("peer"));
    return r ? c.json(r) : c.json({ error: `peer "${c.req.param("peer")}" has no budget` }, 404);
  });
  return app;
}
