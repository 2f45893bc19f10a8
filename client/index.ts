/**
 * The client SDK's public entry (`zkdl-chain/client` in package.json `exports`): ask a zkdl API
 * whether a record was trained on and check the answer without trusting the server, and read a run's
 * on-chain status.
 */
export { type ChainOptions, type CheckMembershipOptions, type MembershipResult, MembershipCheckError, checkMembership, isCertified } from "./sdk";
export type { MembershipRequest } from "./membership-request";
