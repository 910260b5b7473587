/**
 * jose, loaded on first use: a relay whose peers use static tokens never verifies or mints a JWT,
 * and evaluating jose's modules cost ~3 ms of the compiled binary's start (issue 20).
 */
let loading: Promise<typeof import("jose")> | undefined;
export const jose = (): Promise<typeof import("jose")> => (loading ??= import("jose"));
