export { Activity } from "./activity.ts";
export { statusPage } from "./page.ts";
