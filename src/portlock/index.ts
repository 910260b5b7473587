export {
  type Claim,
  type ClaimOptions,
  checkLeaseName,
  claimPort,
  type Lease,
  releaseLease,
  urlFor,
} from "./claim.ts";
export { LEASE_DB, openLeaseDb } from "./db.ts";
export { findLease, listLeases, resolveLease } from "./list.ts";
export { type BoundListener, bindListener, prepareLease } from "./listen.ts";
export {
  isAlive,
  linuxProc,
  type ProcessIdentity,
  type ProcFs,
  pidExists,
  selfIdentity,
} from "./liveness.ts";
export { stopHolder } from "./replace.ts";
