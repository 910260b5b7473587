export { Activity } from "./activity.ts";
export { statusPage } from "./page.ts";
export { Sessions } from "./session.ts";
