/**
 * The verifier's public entry (`zkdl-chain/verifier` in package.json `exports`): what a dApp or an
 * independent checker needs to judge a run from its public files alone, with no native addon and no
 * server to trust. Kept deliberately small: everything here is a promise to the package's users.
 *
 *   - a run: verifyRunFiles (every step proof, chained to the manifest), over a public bundle
 *     (unpackPublicBundle, the bytes a registered bundle URI serves) or any RunFiles;
 *   - the manifest: parseManifest (canonical bytes, schema) and its digest (what the run id commits to);
 *   - the dataset: the Merkle tree's leaf encoding and hash (check a proof with
 *     StandardMerkleTree.verify from @openzeppelin/merkle-tree), and the record-opening proof.
 */
export { type RunFiles, type RunVerdict, type VerifyRunOptions, type WindowReport, stepsVerified, verifyRunFiles, windowName } from "./run/verify";
export { type PublicBundle, PUBLIC_BUNDLE_MAGIC, packPublicBundle, unpackPublicBundle } from "./run/public-bundle";
export { PUBLIC_FILES, RUN_FILES, RunFileError } from "./run/files";
export { InputError } from "./errors";
export { type Manifest, MANIFEST_FORMAT, digestHex, manifestDigest, parseManifest } from "./run/manifest";
export { DATASET_LEAF_ENCODING, type DatasetLeaf, type DatasetLeafTuple, datasetLeafHash, loadDatasetTree } from "./dataset/tree";
export { RECORD_OPENING_DOMAIN, type RecordOpeningProof, type RecordOpeningStatement, recordDigest, verifyRecordOpening } from "./dataset/membership";
