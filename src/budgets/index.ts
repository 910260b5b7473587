export type { BudgetLedger } from "./api.ts";
export { createBudgets } from "./create.ts";
export { Budgets } from "./ledger.ts";
export { LedgerStore } from "./store.ts";
export {
  type BudgetReport,
  budgetsFromConfig,
  ledgerHorizon,
  type PeerBudget,
  reportOf,
} from "./usage.ts";
