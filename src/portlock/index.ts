export {
  type Claim,
  claimPort,
  type Lease,
  urlFor,
} from "./claim.ts";
export { openLeaseDb } from "./db.ts";
export { findLease, listLeases, resolveLease } from "./list.ts";
export { bindListener, prepareLease } from "./listen.ts";
export {
  isAlive,
  linuxProc,
  type ProcessIdentity,
  type ProcFs,
  selfIdentity,
} from "./liveness.ts";
export { stopHolder } from "./replace.ts";
