export type { BudgetLedger } from "./api.ts";
export { createBudgets } from "./create.ts";
export { Budgets, type BudgetsDeps } from "./ledger.ts";
export { budgetRoutes } from "./routes.ts";
export { LedgerStore, type Sums } from "./store.ts";
export {
  type BudgetReport,
  budgetsFromConfig,
  ledgerHorizon,
  type PeerBudget,
  reportFrom,
  reportOf,
} from "./usage.ts";
export { type BudgetWindow, parseWindow } from "./window.ts";
