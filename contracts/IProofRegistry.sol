// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IProofRegistry
 * @notice On-chain anchor for zkDL proof-of-training runs: what a run commits to, who published it,
 * and whether independent verifiers found its proof valid.
 *
 * Storage keeps what contracts need to read (publisher, status, times, attestation counts, model id,
 * dataset root and size, number of steps, final-weights digest, fingerprint root). The rest of a registered record (manifest
 * digest, initial-weights digest, bundle URI) lives in the {RunRegistered} event; the run id itself commits
 * to the manifest digest (see {runIdOf}), so anyone holding a manifest can check it against the chain.
 */
interface IProofRegistry {
    /// @notice Lifecycle of a run. The only edges are Registered→Verified, Registered→Rejected and
    /// Registered|Verified→Revoked. `None` means "never registered".
    enum Status {
        None,
        Registered,
        Verified,
        Rejected,
        Revoked
    }

    /// @notice A verifier's verdict on one run.
    enum Verdict {
        None,
        Valid,
        Invalid
    }

    /**
     * @notice What a publisher registers: the public commitments of one training run.
     * @param modelId publisher-chosen label of the model; models are namespaced by publisher (see {modelKeyOf})
     * @param datasetRoot OpenZeppelin StandardMerkleTree root over the dataset leaves (see {recordLeaf})
     * @param fingerprintRoot OpenZeppelin StandardMerkleTree root over the gaps between the dataset's sorted
     * record fingerprints (see {fingerprintLeaf}); what {verifyNonMember} checks against
     * @param datasetSize number of records (leaves) in the dataset
     * @param manifestDigest keccak-256 of the run's canonical manifest
     * @param initialWeightsDigest keccak-256 digest of the initial weight commitments
     * @param finalWeightsDigest keccak-256 digest of the final weight commitments
     * @param numSteps number of proven SGD steps
     * @param bundleURI where the public proof bundle is served
     */
    struct RunRecord {
        bytes32 modelId;
        bytes32 datasetRoot;
        bytes32 fingerprintRoot;
        uint64 datasetSize;
        bytes32 manifestDigest;
        bytes32 initialWeightsDigest;
        bytes32 finalWeightsDigest;
        uint32 numSteps;
        string bundleURI;
    }

    /// @notice The stored part of a run, as {getRun} returns it. Packed into six storage slots.
    struct Run {
        address publisher;
        Status status;
        uint40 registeredAt;
        uint40 updatedAt;
        uint64 datasetSize;
        uint32 numSteps;
        uint16 validCount;
        uint16 invalidCount;
        bytes32 modelId;
        bytes32 datasetRoot;
        bytes32 finalWeightsDigest;
        bytes32 fingerprintRoot;
    }

    /**
     * @notice A dataset record as the membership views take it: the pre-image of its leaf (see
     * {ProofRegistry-recordLeaf}), never the leaf hash itself.
     * @param index the record's position in the dataset
     * @param cxHash keccak-256 digest of the record's feature commitment
     * @param cyHash keccak-256 digest of the record's label commitment
     */
    struct RecordRef {
        uint256 index;
        bytes32 cxHash;
        bytes32 cyHash;
    }

    /// @notice One verifier's attestation on one run (the report digest is in the {Attested} event).
    struct Attestation {
        Verdict verdict;
        uint40 attestedAt;
    }

    // ───────────────────────────── events ─────────────────────────────

    /// @notice A run was registered. `submitter` paid the gas (the publisher itself, or a relayer).
    event RunRegistered(
        bytes32 indexed runId,
        address indexed publisher,
        bytes32 indexed modelId,
        RunRecord record,
        address submitter
    );
    /// @notice A verifier attested on a run; counts are after this attestation.
    event Attested(
        bytes32 indexed runId,
        address indexed verifier,
        Verdict indexed verdict,
        bytes32 reportDigest,
        uint16 validCount,
        uint16 invalidCount
    );
    /// @notice The quorum of valid attestations was reached: the run is Verified.
    event RunVerified(bytes32 indexed runId, address indexed publisher, bytes32 indexed modelId, uint16 validCount);
    /// @notice The quorum of invalid attestations was reached: the run is Rejected.
    event RunRejected(bytes32 indexed runId, address indexed publisher, bytes32 indexed modelId, uint16 invalidCount);
    /// @notice The publisher or an admin revoked the run.
    event RunRevoked(
        bytes32 indexed runId,
        address indexed publisher,
        bytes32 indexed modelId,
        address revokedBy,
        Status previousStatus,
        string reason
    );
    /// @notice The admin changed the attestation quorum.
    event QuorumChanged(uint16 previousQuorum, uint16 newQuorum);
    /// @notice A publisher cancelled its outstanding registration signatures for `nonce`.
    event NonceCancelled(address indexed publisher, uint256 nonce);

    // ───────────────────────────── errors ─────────────────────────────

    error ZeroModelId();
    error ZeroDatasetRoot();
    error ZeroFingerprintRoot();
    error ZeroDatasetSize();
    error ZeroManifestDigest();
    error ZeroWeightsDigest();
    error ZeroSteps();
    error EmptyBundleURI();
    error ZeroAddress();
    error ZeroReportDigest();
    error ZeroQuorum();
    error EmptyReason();
    /// @dev The run id is taken; relayers treat this as "already done".
    error RunAlreadyRegistered(bytes32 runId);
    error UnknownRun(bytes32 runId);
    /// @dev The action is not allowed from the run's current status.
    error InvalidStatus(bytes32 runId, Status current);
    error AlreadyAttested(bytes32 runId, address verifier);
    /// @dev A verifier may not attest on its own run: attestations must be independent.
    error SelfAttestation(bytes32 runId, address verifier);
    error SignatureExpired(uint256 deadline);
    /// @dev The signature is not the publisher's over this record, nonce, chain and registry.
    error InvalidSignature(address publisher);
    error NotPublisherOrAdmin(bytes32 runId, address caller);
    /// @dev A multiproof of no records: OpenZeppelin would call `proof = [root]` valid, proving nothing.
    error EmptyRecordSet();
    /// @dev Proof and flags cannot be a multiproof of `records` leaves: that needs
    /// `records + proofLength == flags + 1` and exactly `proofLength` false flags.
    error MalformedMultiproof(uint256 records, uint256 proofLength, uint256 flags);

    // ───────────────────────────── writes ─────────────────────────────

    function registerRun(RunRecord calldata record) external returns (bytes32 runId);

    function registerRunFor(
        RunRecord calldata record,
        address publisher,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 runId);

    function attest(bytes32 runId, bool valid, bytes32 reportDigest) external;

    function revoke(bytes32 runId, string calldata reason) external;

    // ───────────────────────────── views ─────────────────────────────

    function getRun(bytes32 runId) external view returns (Run memory);

    function statusOf(bytes32 runId) external view returns (Status);

    function isCertified(bytes32 runId) external view returns (bool);

    function latestCertifiedRun(bytes32 modelKey) external view returns (bytes32 runId);

    function runIdOf(address publisher, bytes32 manifestDigest) external pure returns (bytes32);

    function modelKeyOf(address publisher, bytes32 modelId) external pure returns (bytes32);

    function attestationOf(bytes32 runId, address verifier) external view returns (Attestation memory);

    // Membership and non-membership of a record (docs/protocol.md §1.4, §5.2, §5.3).

    function recordLeaf(uint256 index, bytes32 cxHash, bytes32 cyHash) external pure returns (bytes32);

    function verifyRecord(
        bytes32 runId,
        uint256 index,
        bytes32 cxHash,
        bytes32 cyHash,
        bytes32[] calldata proof
    ) external view returns (bool);

    function verifyRecords(
        bytes32 runId,
        RecordRef[] calldata records,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool);

    function fingerprintLeaf(bytes32 low, bytes32 high) external pure returns (bytes32);

    function verifyNonMember(
        bytes32 runId,
        bytes32 fingerprint,
        bytes32 low,
        bytes32 high,
        bytes32[] calldata proof
    ) external view returns (bool);
}
