import { Hono } from "hono";
import type { BudgetLedger } from "../budgets/api.ts";
import type { AppEnv } from "./types.ts";

/** `GET /admin/budgets`, `GET /admin/budgets/{peer}`, `POST /admin/budgets/{peer}/reset`. */
export function budgetRoutes(budgets: BudgetLedger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => c.json({ budgets: await budgets.report() }));
  app.get("/:peer", async (c) => {
    const r = await budgets.reportFor(c.req.param("peer"));
    return r ? c.json(r) : c.json({ error: `peer "${c.req.param("peer")}" has no budget` }, 404);
  });
  app.post("/:peer/reset", async (c) => {
    const r = await budgets.reset(c.req.param("peer"));
    return r ? c.json(r) : c.json({ error: `peer "${c.req.param("peer")}" has no budget` }, 404);
  });
  return app;
}
