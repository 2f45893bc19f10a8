// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Transcript
/// @notice The Fiat–Shamir transcript of docs/protocol.md §3.2, byte for byte the TypeScript one
/// (`prover/protocol/transcript.ts`): the first piece of an on-chain verifier, and the cross-check
/// that the transcript is as simple as its specification claims.
library Transcript {
    /// @dev BN254 scalar field order r.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    /// @dev 2^256 mod r, to reduce a 512-bit hash without big-integer arithmetic.
    uint256 internal constant TWO_256_MOD_R = 0x0e0a77c19a07df2f666ea36f7879462e36fc76959f60cd29ac96341c4ffffffb;

    /// @notice s = keccak(0x00 ‖ u8(len domain) ‖ domain).
    function start(bytes memory domain) internal pure returns (bytes32) {
        require(domain.length >= 1 && domain.length <= 255, "label length");
        return keccak256(abi.encodePacked(uint8(0), uint8(domain.length), domain));
    }

    /// @notice s = keccak(s ‖ 0x01 ‖ u8(len label) ‖ label ‖ u32be(len data) ‖ data).
    function absorb(bytes32 state, bytes memory label, bytes memory data) internal pure returns (bytes32) {
        require(label.length >= 1 && label.length <= 255, "label length");
        return keccak256(abi.encodePacked(state, uint8(1), uint8(label.length), label, uint32(data.length), data));
    }

    /// @notice s = keccak(s ‖ 0x02 ‖ u8(len label) ‖ label); c = (keccak(s ‖ 0x00) ‖ keccak(s ‖ 0x01)) mod r.
    function challenge(bytes32 state, bytes memory label) internal pure returns (bytes32 next, uint256 c) {
        require(label.length >= 1 && label.length <= 255, "label length");
        next = keccak256(abi.encodePacked(state, uint8(2), uint8(label.length), label));
        uint256 hi = uint256(keccak256(abi.encodePacked(next, uint8(0))));
        uint256 lo = uint256(keccak256(abi.encodePacked(next, uint8(1))));
        c = addmod(mulmod(hi, TWO_256_MOD_R, R), lo % R, R);
    }
}
