/**
 * The client's hand-written ProofRegistry ABI (client/registry-abi.ts) against the compiled contract:
 * every fragment exists there with the same inputs, outputs and mutability, so the SDK decodes what the
 * contract returns without the generated bindings.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Interface } from "ethers";
import { PROOF_REGISTRY_CLIENT_ABI } from "../../client/registry-abi";

describe("client: the registry ABI the SDK uses", () => {
  const artifact = JSON.parse(readFileSync(join(__dirname, "../../artifacts/contracts/ProofRegistry.sol/ProofRegistry.json"), "utf8")) as { abi: unknown[] };
  const contract = new Interface(artifact.abi as never);
  const client = new Interface(PROOF_REGISTRY_CLIENT_ABI);

  it("names only functions of ProofRegistry, with the contract's exact signatures and outputs", () => {
    const names: string[] = [];
    client.forEachFunction((f) => {
      names.push(f.name);
      const compiled = contract.getFunction(f.format("sighash"));
      expect(compiled, f.format("sighash")).to.not.equal(null);
      // "full" includes parameter names, output tuple components and mutability.
      expect(f.format("full"), f.name).to.equal(compiled!.format("full"));
      expect(f.selector).to.equal(compiled!.selector);
      expect(f.stateMutability).to.equal("view");
    });
    expect(names.sort()).to.deep.equal(["getRun", "isCertified", "verifyNonMember", "verifyRecord"]);
  });
});
