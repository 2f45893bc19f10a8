/**
 * zkdl-chain's client, for Node and browsers alike: ask a zkdl API whether a record was trained on and
 * check the answer without trusting the server (checkMembership), read a run's certification on chain
 * (isCertified), and the API's wire format as zod schemas with their types. It imports only core/ and
 * browser-safe packages (zod, ethers, @noble/*, @openzeppelin/merkle-tree).
 */
export { type CheckMembershipOptions, type MembershipResult, MembershipCheckError, checkMembership, isCertified, membershipHeadline } from "./sdk";
export * from "./api";
export { RecordError, parseMembershipRequest, quantizeRequest } from "./membership-request";
export {
  type RunRecord,
  type RunStatusName,
  type SignedRegistration,
  REGISTER_RUN_TYPES,
  RunStatus,
  AttestationVote,
  modelKeyOf,
  registryDomain,
  runIdOf,
  signRegistration,
} from "./registry";
export { type ChainEndpoint, PROOF_REGISTRY_CLIENT_ABI, type RegistryReader, type RegistryRun, WrongChainError, openRegistry, registryReader } from "./registry-abi";
export { MAX_BUNDLE_BYTES, type OnChainRun, type ServedRunVerdict, type VerifyProgress, bundleMismatch, downloadBundle, readOnChainRun, verifyServedRun } from "./verify-run";
