import { defineConfig } from "drizzle-kit";

/** The shared budget ledger on PostgreSQL (`[budgets] store`): `npm run db:generate:pg`. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/budgets/pg/schema.ts",
  out: "./drizzle/pg",
});
