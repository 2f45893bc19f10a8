// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Test-only: measures the execution gas of a view call (storage reads inside it stay cold).
contract GasProbe {
    function measure(address target, bytes calldata data) external view returns (uint256 gasUsed, bytes memory result) {
        bool ok;
        // Touch the target first so the cold account access is not charged to the measured call.
        uint256 size = target.code.length;
        require(size > 0, "no code");
        uint256 before = gasleft();
        (ok, result) = target.staticcall(data);
        gasUsed = before - gasleft();
        require(ok, "call reverted");
    }
}
