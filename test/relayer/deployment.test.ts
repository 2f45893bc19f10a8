import { expect } from "chai";
import { ethers } from "hardhat";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deployZkdl, readDeployment, writeDeployment } from "../../relayer/deployment";
import { ProofRegistry__factory, CertifiedModelGate__factory } from "../../typechain-types";

async function expectRejection(promise: Promise<unknown>, message: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error, "expected a rejection").to.be.instanceOf(Error);
  expect(error!.message).to.match(message);
}

describe("deployment (relayer/deployment.ts)", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "zkdl-deploy-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("deploys the registry and the gate, grants verifiers, and round-trips the deployment file", async () => {
    const [deployer, v1, v2] = await ethers.getSigners();
    const deployment = await deployZkdl(deployer, { network: "hardhat", quorum: 2, verifiers: [v1.address, v2.address] });
    const registry = ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, ethers.provider);
    const gate = CertifiedModelGate__factory.connect(deployment.contracts.CertifiedModelGate.address, ethers.provider);
    expect(await registry.quorum()).to.equal(2);
    expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(true);
    for (const v of [v1, v2]) expect(await registry.hasRole(await registry.VERIFIER_ROLE(), v.address)).to.equal(true);
    expect(await gate.registry()).to.equal(deployment.contracts.ProofRegistry.address);
    expect(deployment.chainId).to.equal((await ethers.provider.getNetwork()).chainId.toString());

    const file = join(dir, "nested", "hardhat.json");
    writeDeployment(file, deployment);
    expect(readDeployment(file)).to.deep.equal(deployment);
  });

  it("deploys with a separate admin, and refuses to grant verifiers it cannot grant", async () => {
    const [deployer, admin] = await ethers.getSigners();
    const deployment = await deployZkdl(deployer, { network: "hardhat", quorum: 1, admin: admin.address });
    const registry = ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, ethers.provider);
    expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    await expectRejection(deployZkdl(deployer, { network: "hardhat", quorum: 1, admin: admin.address, verifiers: [admin.address] }), /deployer is the admin/);
    await expectRejection(deployZkdl(deployer, { network: "hardhat", quorum: 0 }), /quorum must be an integer/);
  });

  it("names the file and the problem when a deployment file is missing or malformed", async () => {
    const missing = join(dir, "missing.json");
    expect(() => readDeployment(missing)).to.throw(new RegExp(`cannot read deployment file ${missing}`));
    const notJson = join(dir, "bad.json");
    writeFileSync(notJson, "{ not json");
    expect(() => readDeployment(notJson)).to.throw(/bad.json is not JSON/);
    const [deployer] = await ethers.getSigners();
    const good = await deployZkdl(deployer, { network: "hardhat", quorum: 1 });
    const wrong = join(dir, "wrong.json");
    writeFileSync(wrong, JSON.stringify({ ...good, contracts: { ...good.contracts, ProofRegistry: { ...good.contracts.ProofRegistry, address: "0x1234" } } }));
    expect(() => readDeployment(wrong)).to.throw(/wrong.json is malformed: contracts.ProofRegistry.address: not an Ethereum address/);
    writeFileSync(wrong, JSON.stringify({ ...good, format: "other/9" }));
    expect(() => readDeployment(wrong)).to.throw(/format/);
  });
});
