/** `zkdl publish`: queue a run's registration, signed by the publisher, for `zkdl relay` to submit. */
import { getAddress, isAddress } from "ethers";
import { daemonProvider } from "../../relayer/chain";
import { checkRunFolder } from "../../prover/run-folder";
import { publishRun } from "../../relayer/relay";
import { die } from "../exit";
import { type ChainFlags, chainSettings, keyFromEnv } from "./chain";
import { openStore } from "./store";

export interface PublishFlags extends ChainFlags {
  apiUrl: string;
  model?: string;
  relayer?: string;
}

export async function publish(dir: string, o: PublishFlags): Promise<void> {
  checkRunFolder(dir);
  const chain = await chainSettings(o);
  const relayer = o.relayer ?? keyFromEnv("ZKDL_RELAYER_KEY", "relayer").address;
  if (!isAddress(relayer)) die(`--relayer ${relayer} is not an address`);
  const provider = daemonProvider(chain.rpc, chain.chainId);
  const store = openStore(o.data!);
  try {
    const publisher = keyFromEnv("ZKDL_PUBLISHER_KEY", "publisher").connect(provider);
    const p = await publishRun({ store, dir, publisher, registry: chain.registry, relayer, apiUrl: o.apiUrl, model: o.model });
    const out = { runId: p.runId, job: p.job.key, status: p.job.status, queued: p.queued, publisher: publisher.address, relayer: getAddress(relayer) };
    process.stdout.write(o.json ? JSON.stringify(out) + "\n" : `${p.queued ? "queued" : `already ${p.job.status}`}: run ${p.runId} (job ${p.job.id}); run \`zkdl relay\` to submit it\n`);
  } finally {
    store.close();
    provider.destroy();
  }
}
