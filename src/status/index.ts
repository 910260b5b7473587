export { Activity, type SettledTask } from "./activity.ts";
export { SESSION_COOKIE, type StatusDeps, statusPage } from "./page.ts";
