/** `zkdl relay` and `zkdl attest`: the relayer and the attestor daemons (durable; safe to kill and restart). */
import { runAttestor } from "../../relayer/attestor";
import { daemonLogger, daemonProvider } from "../../relayer/chain";
import { runRelayer } from "../../relayer/relay";
import { DEFAULT_FETCH_RETRY } from "../../relayer/limits";
import { type ChainFlags, type SenderFlags, chainSettings, fastEngine, keyFromEnv, reportSettled, senderOptions, shutdownSignal } from "./chain";
import { openStore } from "./store";

export async function relay(o: ChainFlags & SenderFlags): Promise<void> {
  const chain = await chainSettings(o);
  const wallet = keyFromEnv("ZKDL_RELAYER_KEY", "relayer");
  const provider = daemonProvider(chain.rpc, chain.chainId);
  const store = openStore(o.data!);
  try {
    const settled = await runRelayer({ store, wallet, provider, registry: chain.registry, log: daemonLogger("relay"), sender: senderOptions(o), once: o.once, signal: shutdownSignal() });
    reportSettled(settled, o);
  } finally {
    store.close();
    provider.destroy();
  }
}

export interface AttestFlags extends ChainFlags, SenderFlags {
  poll: number;
  maxBundleBytes: number;
  fetchTimeout: number;
  fetchTries: number;
  allowFileUris?: boolean;
}

export async function attest(o: AttestFlags): Promise<void> {
  const chain = await chainSettings(o);
  const wallet = keyFromEnv("ZKDL_ATTESTOR_KEY", "attestor");
  const provider = daemonProvider(chain.rpc, chain.chainId);
  const store = openStore(o.data!);
  const fast = fastEngine();
  try {
    const settled = await runAttestor({
      store,
      wallet,
      provider,
      registry: chain.registry,
      fromBlock: chain.fromBlock,
      log: daemonLogger("attest"),
      sender: senderOptions(o),
      once: o.once,
      pollMs: o.poll,
      maxBundleBytes: o.maxBundleBytes,
      fetchTimeoutMs: o.fetchTimeout * 1000,
      fetchRetry: { ...DEFAULT_FETCH_RETRY, tries: o.fetchTries },
      allowFileUris: !!o.allowFileUris,
      engine: fast.engine,
      nativeGenerators: fast.native,
      signal: shutdownSignal(),
    });
    reportSettled(settled, o);
  } finally {
    store.close();
    provider.destroy();
  }
}
