// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IProofRegistry} from "../IProofRegistry.sol";

/**
 * @title CertifiedModelGate
 * @notice Example dApp gate: paid access passes to a model, usable only while the model's latest run is
 * certified (Verified) in the {IProofRegistry}. A model server calls {canUse} before answering a user and
 * {certifiedWeights} to know which weights it may serve; after a revocation both refuse until a new run of
 * the model is verified.
 */
contract CertifiedModelGate {
    /// @notice A publisher's offer for one of its models.
    struct Listing {
        address publisher;
        uint96 price;
        bytes32 modelId;
    }

    /// @notice The registry whose certification this gate trusts.
    IProofRegistry public immutable registry;

    mapping(bytes32 modelKey => Listing) private _listings;
    mapping(bytes32 modelKey => mapping(address user => bool)) private _passes;

    /// @notice Wei owed to each publisher from pass sales (pull payments).
    mapping(address publisher => uint256) public balanceOf;

    event ModelListed(bytes32 indexed modelKey, address indexed publisher, bytes32 indexed modelId, uint96 price);
    event PassPurchased(bytes32 indexed modelKey, address indexed user, bytes32 indexed runId, uint96 price);
    event Withdrawn(address indexed publisher, uint256 amount);

    error ModelNotListed(bytes32 modelKey);
    error ModelNotCertified(bytes32 modelKey);
    error WrongPayment(uint256 expected, uint256 paid);
    error AlreadyHoldsPass(bytes32 modelKey, address user);
    error NothingToWithdraw(address publisher);
    error ZeroModelId();

    constructor(IProofRegistry registry_) {
        registry = registry_;
    }

    /**
     * @notice Lists (or re-prices) one of the caller's models.
     * @param modelId the label the caller registers its runs under
     * @param price wei per access pass (0 for free passes)
     * @return modelKey the registry's key of the model, `modelKeyOf(msg.sender, modelId)`
     */
    function list(bytes32 modelId, uint96 price) external returns (bytes32 modelKey) {
        if (modelId == bytes32(0)) revert ZeroModelId();
        modelKey = registry.modelKeyOf(msg.sender, modelId);
        _listings[modelKey] = Listing({publisher: msg.sender, price: price, modelId: modelId});
        emit ModelListed(modelKey, msg.sender, modelId, price);
    }

    /**
     * @notice Buys an access pass for a listed model whose latest run is certified; pay exactly its price.
     */
    function buyPass(bytes32 modelKey) external payable {
        Listing memory listing = _listings[modelKey];
        if (listing.publisher == address(0)) revert ModelNotListed(modelKey);
        bytes32 runId = registry.latestCertifiedRun(modelKey);
        if (runId == bytes32(0)) revert ModelNotCertified(modelKey);
        if (msg.value != listing.price) revert WrongPayment(listing.price, msg.value);
        if (_passes[modelKey][msg.sender]) revert AlreadyHoldsPass(modelKey, msg.sender);
        _passes[modelKey][msg.sender] = true;
        balanceOf[listing.publisher] += msg.value;
        emit PassPurchased(modelKey, msg.sender, runId, listing.price);
    }

    /// @notice Sends the caller its proceeds.
    function withdraw() external {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        balanceOf[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @notice True if `user` holds a pass and the model's latest run is still certified.
    function canUse(bytes32 modelKey, address user) external view returns (bool) {
        return _passes[modelKey][user] && registry.latestCertifiedRun(modelKey) != bytes32(0);
    }

    /// @notice True if `user` bought a pass (whether or not the model is certified now).
    function holdsPass(bytes32 modelKey, address user) external view returns (bool) {
        return _passes[modelKey][user];
    }

    /// @notice The model's listing (publisher zero if unlisted).
    function listingOf(bytes32 modelKey) external view returns (Listing memory) {
        return _listings[modelKey];
    }

    /**
     * @notice The run a model server may serve and the digest of its final weight commitments;
     * reverts {ModelNotCertified} when there is none.
     */
    function certifiedWeights(bytes32 modelKey) external view returns (bytes32 runId, bytes32 finalWeightsDigest) {
        runId = registry.latestCertifiedRun(modelKey);
        if (runId == bytes32(0)) revert ModelNotCertified(modelKey);
        finalWeightsDigest = registry.getRun(runId).finalWeightsDigest;
    }
}
