// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IProofRegistry} from "./IProofRegistry.sol";

/**
 * @title ProofRegistry
 * @notice Registry of zkDL proof-of-training runs: publishers (directly, or through a relayer with an
 * EIP-712 signature) register a run's public commitments; holders of `VERIFIER_ROLE` independently check
 * the proof bundle off-chain and attest; a quorum of "valid" makes the run Verified, a quorum of "invalid"
 * makes it Rejected; the publisher or an admin can revoke. Anyone can check that a dataset record is a
 * leaf of a run's committed dataset, and that a record's fingerprint falls in a gap of the run's committed
 * fingerprint tree (so the record is not in the dataset).
 *
 * @dev Run ids are `keccak256(abi.encode(publisher, manifestDigest))`: deterministic, so a relayer knows
 * the id before it sends, and re-registering reverts with {RunAlreadyRegistered}. Model ids are labels in
 * the publisher's namespace: `modelKeyOf(publisher, modelId)` is the global key, so nobody can take over
 * another publisher's model.
 */
contract ProofRegistry is IProofRegistry, AccessControl, EIP712, Nonces {
    /// @notice Role of independent verifiers allowed to attest.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");

    /// @notice EIP-712 type of the record, nested in {REGISTER_RUN_TYPEHASH}.
    bytes32 public constant RUN_RECORD_TYPEHASH =
        keccak256(
            "RunRecord(bytes32 modelId,bytes32 datasetRoot,bytes32 fingerprintRoot,uint64 datasetSize,"
            "bytes32 manifestDigest,bytes32 initialWeightsDigest,bytes32 finalWeightsDigest,uint32 numSteps,"
            "string bundleURI)"
        );

    /// @notice EIP-712 type a publisher signs to let a relayer register on its behalf.
    bytes32 public constant REGISTER_RUN_TYPEHASH =
        keccak256(
            "RegisterRun(RunRecord record,address publisher,uint256 nonce,uint256 deadline)"
            "RunRecord(bytes32 modelId,bytes32 datasetRoot,bytes32 fingerprintRoot,uint64 datasetSize,"
            "bytes32 manifestDigest,bytes32 initialWeightsDigest,bytes32 finalWeightsDigest,uint32 numSteps,"
            "string bundleURI)"
        );

    /// @notice Number of matching attestations that moves a Registered run to Verified or Rejected.
    uint16 public quorum;

    mapping(bytes32 runId => Run) private _runs;
    mapping(bytes32 runId => mapping(address verifier => Attestation)) private _attestations;
    mapping(bytes32 modelKey => bytes32 runId) private _latestCertified;

    /**
     * @param admin receives `DEFAULT_ADMIN_ROLE` (grants verifiers, sets the quorum, may revoke runs)
     * @param initialQuorum attestations needed to verify or reject a run; at least 1
     */
    constructor(address admin, uint16 initialQuorum) EIP712("ProofRegistry", "1") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setQuorum(initialQuorum);
    }

    // ───────────────────────────── registration ─────────────────────────────

    /**
     * @notice Registers a run published by the caller.
     * @param record the run's public commitments; every digest, both roots, the size and the steps must be
     * non-zero and the URI non-empty
     * @return runId `runIdOf(msg.sender, record.manifestDigest)`
     */
    function registerRun(RunRecord calldata record) external returns (bytes32 runId) {
        return _register(record, msg.sender);
    }

    /**
     * @notice Registers a run on behalf of `publisher`, who signed it (EIP-712, {REGISTER_RUN_TYPEHASH}) over
     * its current nonce; the caller pays the gas. Contract publishers sign through ERC-1271.
     * @dev Replaying a used signature reverts {RunAlreadyRegistered}, since the record fixes the run id. A
     * signature for another chain, another registry, a cancelled nonce or another key reverts {InvalidSignature}.
     * @param record the run's public commitments
     * @param publisher the account named as publisher
     * @param deadline last timestamp at which the signature is accepted
     * @param signature the publisher's signature
     * @return runId `runIdOf(publisher, record.manifestDigest)`
     */
    function registerRunFor(
        RunRecord calldata record,
        address publisher,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 runId) {
        if (publisher == address(0)) revert ZeroAddress();
        runId = runIdOf(publisher, record.manifestDigest);
        if (_runs[runId].status != Status.None) revert RunAlreadyRegistered(runId);
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 digest = _registrationDigest(record, publisher, _useNonce(publisher), deadline);
        if (!SignatureChecker.isValidSignatureNowCalldata(publisher, digest, signature)) {
            revert InvalidSignature(publisher);
        }
        _register(record, publisher);
    }

    /**
     * @notice Cancels every outstanding registration signature of the caller at its current nonce.
     */
    function cancelNonce() external {
        emit NonceCancelled(msg.sender, _useNonce(msg.sender));
    }

    /**
     * @notice EIP-712 digest a publisher signs for {registerRunFor}.
     */
    function registrationDigest(
        RunRecord calldata record,
        address publisher,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _registrationDigest(record, publisher, nonce, deadline);
    }

    // ───────────────────────────── attestation ─────────────────────────────

    /**
     * @notice Records the caller's verdict on a Registered run, with the digest of its verification report.
     * Reaching the quorum moves the run to Verified (valid) or Rejected (invalid).
     * @dev One attestation per verifier per run; a verifier cannot attest on a run it published.
     */
    function attest(bytes32 runId, bool valid, bytes32 reportDigest) external onlyRole(VERIFIER_ROLE) {
        if (reportDigest == bytes32(0)) revert ZeroReportDigest();
        Run storage run = _runs[runId];
        Status status = run.status;
        if (status == Status.None) revert UnknownRun(runId);
        if (status != Status.Registered) revert InvalidStatus(runId, status);
        if (run.publisher == msg.sender) revert SelfAttestation(runId, msg.sender);
        Attestation storage attestation = _attestations[runId][msg.sender];
        if (attestation.verdict != Verdict.None) revert AlreadyAttested(runId, msg.sender);

        Verdict verdict = valid ? Verdict.Valid : Verdict.Invalid;
        attestation.verdict = verdict;
        attestation.attestedAt = uint40(block.timestamp);

        uint16 validCount = run.validCount;
        uint16 invalidCount = run.invalidCount;
        if (valid) run.validCount = ++validCount;
        else run.invalidCount = ++invalidCount;
        emit Attested(runId, msg.sender, verdict, reportDigest, validCount, invalidCount);

        uint16 q = quorum;
        if (validCount >= q) {
            _setStatus(run, Status.Verified);
            _recordCertified(runId, run);
            emit RunVerified(runId, run.publisher, run.modelId, validCount);
        } else if (invalidCount >= q) {
            _setStatus(run, Status.Rejected);
            emit RunRejected(runId, run.publisher, run.modelId, invalidCount);
        }
    }

    /**
     * @notice Revokes a Registered or Verified run. Only its publisher or an admin may.
     * @param reason why, for the record (non-empty)
     */
    function revoke(bytes32 runId, string calldata reason) external {
        if (bytes(reason).length == 0) revert EmptyReason();
        Run storage run = _runs[runId];
        Status status = run.status;
        if (status == Status.None) revert UnknownRun(runId);
        if (msg.sender != run.publisher && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert NotPublisherOrAdmin(runId, msg.sender);
        }
        if (status != Status.Registered && status != Status.Verified) revert InvalidStatus(runId, status);
        _setStatus(run, Status.Revoked);
        emit RunRevoked(runId, run.publisher, run.modelId, msg.sender, status, reason);
    }

    /**
     * @notice Sets the number of matching attestations that decides a run. Applies to pending runs at their
     * next attestation.
     */
    function setQuorum(uint16 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQuorum(newQuorum);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice The stored part of a run; reverts {UnknownRun} if it was never registered.
    function getRun(bytes32 runId) external view returns (Run memory) {
        Run memory run = _runs[runId];
        if (run.status == Status.None) revert UnknownRun(runId);
        return run;
    }

    /// @notice The run's status; `None` if it was never registered (so callers can probe without a revert).
    function statusOf(bytes32 runId) external view returns (Status) {
        return _runs[runId].status;
    }

    /// @notice True while the run is Verified.
    function isCertified(bytes32 runId) public view returns (bool) {
        return _runs[runId].status == Status.Verified;
    }

    /// @notice A verifier's attestation on a run (verdict `None` if it has not attested).
    function attestationOf(bytes32 runId, address verifier) external view returns (Attestation memory) {
        return _attestations[runId][verifier];
    }

    /**
     * @notice The model's most recently registered run among those that ever reached Verified, if it is
     * still Verified; zero otherwise (none yet, or it was revoked: revoking it withdraws the model until a
     * newer run is verified).
     * @param modelKey `modelKeyOf(publisher, modelId)`
     */
    function latestCertifiedRun(bytes32 modelKey) external view returns (bytes32 runId) {
        runId = _latestCertified[modelKey];
        if (!isCertified(runId)) runId = bytes32(0);
    }

    /// @notice The deterministic id of a run: `keccak256(abi.encode(publisher, manifestDigest))`.
    function runIdOf(address publisher, bytes32 manifestDigest) public pure returns (bytes32) {
        return keccak256(abi.encode(publisher, manifestDigest));
    }

    /// @notice The global key of a publisher's model: `keccak256(abi.encode(publisher, modelId))`.
    function modelKeyOf(address publisher, bytes32 modelId) public pure returns (bytes32) {
        return keccak256(abi.encode(publisher, modelId));
    }

    // ───────────────────────────── dataset membership ─────────────────────────────

    /**
     * @notice The dataset leaf of record `index`: the OpenZeppelin StandardMerkleTree leaf of
     * `(uint256 index, bytes32 cxHash, bytes32 cyHash)`, i.e. `keccak256(keccak256(abi.encode(...)))`,
     * where cxHash and cyHash are keccak-256 digests of the record's feature and label commitments.
     * @dev The one leaf function: the membership views hash what they are given with it and take no
     * ready-made leaf. OpenZeppelin's `MerkleProof` only checks that a 32-byte value folds up to the root,
     * and every node of the tree does (the root with an empty proof, an inner node with the siblings above
     * it), so a view taking a raw leaf would call any node "a record in the dataset". A leaf here is the
     * keccak-256 of a 32-byte word (the hash of the 96-byte encoding), an inner node the keccak-256 of a
     * 64-byte sorted pair: a pre-image whose leaf equals an inner node or the root is a keccak-256
     * collision between inputs of different lengths. This double hash is the defence OpenZeppelin's
     * `MerkleProof` asks for against 64-byte leaves (second pre-images: a pair of inner nodes read as a leaf).
     */
    function recordLeaf(uint256 index, bytes32 cxHash, bytes32 cyHash) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, cxHash, cyHash))));
    }

    /**
     * @notice True if record `index`, whose commitments have digests `cxHash` and `cyHash`, is a leaf of the
     * dataset tree whose root the run's publisher registered.
     * @dev True means `recordLeaf(index, cxHash, cyHash)` folds with the sibling hashes `proof` (from the leaf
     * up, as OpenZeppelin's `getProof` gives them) to the run's `datasetRoot`; by {recordLeaf} only a leaf
     * can, short of a keccak-256 collision. It does not look at the run's status: the root is the
     * publisher's word until attestors check it, so "the run trained on this record" holds while the run
     * {isCertified}; a Registered, Rejected or Revoked run answers all the same. The index is not compared
     * with the dataset size: the leaf commits to its index, and attestors check that the root is the tree
     * of exactly `datasetSize` published commitments, so no leaf past the end exists in a Verified run's
     * tree (and the check would cost a second cold storage read on every call). Reverts {UnknownRun} for an
     * unregistered run; a wrong proof answers false.
     */
    function verifyRecord(
        bytes32 runId,
        uint256 index,
        bytes32 cxHash,
        bytes32 cyHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return MerkleProof.verifyCalldata(proof, _datasetRootOf(runId), recordLeaf(index, cxHash, cyHash));
    }

    /**
     * @notice True if every record of `records` is a leaf of the run's dataset tree (an OpenZeppelin
     * multiproof).
     * @dev Each record is hashed with {recordLeaf}; ready-made leaves are not accepted (see there).
     * `records` must come in the order of the `leaves` that OpenZeppelin's `getMultiProof` returns with
     * `proof` and `proofFlags` (merkle-tree library: descending tree position, not index order). Another
     * order of a valid set answers false, except orders that only swap the two inputs of one node hash
     * (it is commutative): those answer true, about the same records. True means what {verifyRecord} means,
     * for each record, and that the records sit at distinct leaf positions (so in a tree of distinct
     * leaves, as a Verified run's is, a repeated record answers false), short of a keccak-256 collision;
     * the same caveats on the run's status and the dataset size apply. For one record {verifyRecord} is
     * cheaper.
     *
     * What applies of OpenZeppelin's notes on `processMultiProof`: the empty set (no leaves, `proof =
     * [root]`) is valid to OpenZeppelin and proves nothing, so this view reverts {EmptyRecordSet}. Not all
     * trees admit multiproofs, but StandardMerkleTree trees are complete and `getMultiProof` orders the
     * leaves, so every honest set has one. A shape no multiproof has (`records + proof != flags + 1`, or
     * not exactly `proof` false flags) reverts {MalformedMultiproof}; checked here, so OpenZeppelin's own
     * error and its out-of-bounds panics are unreachable, and with this shape OpenZeppelin reads only
     * hashes it has already written, never an unwritten (zero) slot of its queue, the way the multiproof
     * forgery fixed in OpenZeppelin 4.9.2 went. Reverts {UnknownRun} for an unregistered run; a wrong proof
     * of the right shape answers false.
     */
    function verifyRecords(
        bytes32 runId,
        RecordRef[] calldata records,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool) {
        uint256 count = records.length;
        if (count == 0) revert EmptyRecordSet();
        // Count the false flags word by word (a Solidity loop over `bool[] calldata` costs about four
        // times as much: 320 gas a flag). A flag other than 0 or 1 counts as true here and reverts when
        // OpenZeppelin reads it, as ABI decoding does.
        uint256 falseFlags;
        assembly ("memory-safe") {
            for {
                let at := proofFlags.offset
                let end := add(at, shl(5, proofFlags.length))
            } lt(at, end) {
                at := add(at, 0x20)
            } {
                falseFlags := add(falseFlags, iszero(calldataload(at)))
            }
        }
        if (count + proof.length != proofFlags.length + 1 || falseFlags != proof.length) {
            revert MalformedMultiproof(count, proof.length, proofFlags.length);
        }
        bytes32 root = _datasetRootOf(runId);
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            RecordRef calldata record = records[i];
            leaves[i] = recordLeaf(record.index, record.cxHash, record.cyHash);
        }
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    // ───────────────────────────── dataset non-membership ─────────────────────────────

    /**
     * @notice The fingerprint-tree leaf of the gap `(low, high)`: the OpenZeppelin StandardMerkleTree leaf of
     * `(bytes32 low, bytes32 high)`, i.e. `keccak256(keccak256(abi.encode(low, high)))`. The fingerprint tree
     * of a run has one leaf per pair of adjacent values in the dataset's record fingerprints, distinct and
     * sorted ascending as uint256, between the sentinels `0x00…00` and `0xff…ff`: `(0, f_1), (f_1, f_2), …,
     * (f_n, 0xff…ff)`, n + 1 leaves.
     * @dev The one fingerprint-leaf function: {verifyNonMember} hashes the pair it is given with it and takes
     * no ready-made leaf, for the reason {recordLeaf} gives. The pre-image is 64 bytes, the length of an
     * inner node's sorted pair: hashed once, the two children of an inner node, passed as `(low, high)`,
     * would hash to that node and pass with the siblings above it (the root's children with an empty
     * proof), and any fingerprint between them would be "not a member". Hashed twice, the leaf is the
     * keccak-256 of a 32-byte word, so a pair whose leaf equals an inner node or the root is a keccak-256
     * collision between inputs of different lengths (OpenZeppelin `MerkleProof`'s advice for 64-byte leaves).
     */
    function fingerprintLeaf(bytes32 low, bytes32 high) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(low, high))));
    }

    /**
     * @notice True if `fingerprint` lies strictly between `low` and `high` (as uint256) and `(low, high)` is
     * a leaf of the fingerprint tree whose root the run's publisher registered: then no record of the
     * dataset has this fingerprint, so the record it belongs to is not in the dataset.
     * @dev `fingerprint` is the record's fingerprint (keccak-256 of its fingerprint point, see
     * docs/protocol.md §5.3). True means `fingerprintLeaf(low, high)` folds with the sibling hashes `proof`
     * (from the leaf up, as OpenZeppelin's `getProof` gives them) to the run's `fingerprintRoot`, and
     * `low < fingerprint < high`; by {fingerprintLeaf} only a leaf can fold, short of a keccak-256 collision.
     * The bounds are strict: a fingerprint equal to `low` or `high` is one of the dataset's (or a sentinel)
     * and answers false with every leaf. It does not look at the run's status: the tree is the publisher's
     * word until attestors check that it is exactly the gaps of the dataset's fingerprints, so "not a
     * member" holds while the run {isCertified}; a Registered, Rejected or Revoked run answers all the same.
     * Reverts {UnknownRun} for an unregistered run; a wrong proof or a fingerprint outside the gap answers
     * false.
     */
    function verifyNonMember(
        bytes32 runId,
        bytes32 fingerprint,
        bytes32 low,
        bytes32 high,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = _fingerprintRootOf(runId);
        if (!(uint256(low) < uint256(fingerprint) && uint256(fingerprint) < uint256(high))) return false;
        return MerkleProof.verifyCalldata(proof, root, fingerprintLeaf(low, high));
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _register(RunRecord calldata record, address publisher) private returns (bytes32 runId) {
        _checkRecord(record);
        runId = runIdOf(publisher, record.manifestDigest);
        Run storage run = _runs[runId];
        if (run.status != Status.None) revert RunAlreadyRegistered(runId);

        uint40 now_ = uint40(block.timestamp);
        run.publisher = publisher;
        run.status = Status.Registered;
        run.registeredAt = now_;
        run.updatedAt = now_;
        run.datasetSize = record.datasetSize;
        run.numSteps = record.numSteps;
        run.modelId = record.modelId;
        run.datasetRoot = record.datasetRoot;
        run.finalWeightsDigest = record.finalWeightsDigest;
        run.fingerprintRoot = record.fingerprintRoot;
        emit RunRegistered(runId, publisher, record.modelId, record, msg.sender);
    }

    function _checkRecord(RunRecord calldata record) private pure {
        if (record.modelId == bytes32(0)) revert ZeroModelId();
        if (record.datasetRoot == bytes32(0)) revert ZeroDatasetRoot();
        if (record.fingerprintRoot == bytes32(0)) revert ZeroFingerprintRoot();
        if (record.datasetSize == 0) revert ZeroDatasetSize();
        if (record.manifestDigest == bytes32(0)) revert ZeroManifestDigest();
        if (record.initialWeightsDigest == bytes32(0) || record.finalWeightsDigest == bytes32(0)) {
            revert ZeroWeightsDigest();
        }
        if (record.numSteps == 0) revert ZeroSteps();
        if (bytes(record.bundleURI).length == 0) revert EmptyBundleURI();
    }

    function _registrationDigest(
        RunRecord calldata record,
        address publisher,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REGISTER_RUN_TYPEHASH, _hashRecord(record), publisher, nonce, deadline)));
    }

    function _hashRecord(RunRecord calldata record) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    RUN_RECORD_TYPEHASH,
                    record.modelId,
                    record.datasetRoot,
                    record.fingerprintRoot,
                    record.datasetSize,
                    record.manifestDigest,
                    record.initialWeightsDigest,
                    record.finalWeightsDigest,
                    record.numSteps,
                    keccak256(bytes(record.bundleURI))
                )
            );
    }

    function _setStatus(Run storage run, Status status) private {
        run.status = status;
        run.updatedAt = uint40(block.timestamp);
    }

    /// @dev The pointer only moves forward in registration time: a run verified late never displaces a newer
    /// one, even a revoked one, so revoking the newest run cannot silently bring back an older model.
    function _recordCertified(bytes32 runId, Run storage run) private {
        bytes32 modelKey = modelKeyOf(run.publisher, run.modelId);
        bytes32 current = _latestCertified[modelKey];
        if (current == bytes32(0) || _runs[current].registeredAt <= run.registeredAt) {
            _latestCertified[modelKey] = runId;
        }
    }

    function _datasetRootOf(bytes32 runId) private view returns (bytes32) {
        return _known(runId, _runs[runId].datasetRoot);
    }

    function _fingerprintRootOf(bytes32 runId) private view returns (bytes32) {
        return _known(runId, _runs[runId].fingerprintRoot);
    }

    /// @dev A registered run's roots are non-zero ({_checkRecord}), so a zero root means "never registered";
    /// reading the root alone saves the membership views a second cold storage read.
    function _known(bytes32 runId, bytes32 root) private pure returns (bytes32) {
        if (root == bytes32(0)) revert UnknownRun(runId);
        return root;
    }

    function _setQuorum(uint16 newQuorum) private {
        if (newQuorum == 0) revert ZeroQuorum();
        emit QuorumChanged(quorum, newQuorum);
        quorum = newQuorum;
    }
}
