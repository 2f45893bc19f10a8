// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Transcript} from "../lib/Transcript.sol";

/// @dev Test-only: runs a script of absorbs (kind 1) and challenges (kind 2) and returns the challenges.
contract TranscriptProbe {
    function run(bytes calldata domain, uint8[] calldata kinds, bytes[] calldata labels, bytes[] calldata data)
        external
        pure
        returns (uint256[] memory challenges, bytes32 state)
    {
        state = Transcript.start(domain);
        challenges = new uint256[](kinds.length);
        for (uint256 i = 0; i < kinds.length; i++) {
            if (kinds[i] == 1) state = Transcript.absorb(state, labels[i], data[i]);
            else (state, challenges[i]) = Transcript.challenge(state, labels[i]);
        }
    }
}
