/** `zkdl serve`: the HTTP API (run status, public bundles, membership proofs) and the web page. */
import { ProofRegistry__factory } from "../../typechain-types";
import { createApi } from "../../relayer/api";
import { daemonLogger, daemonProvider } from "../../relayer/chain";
import { RunCatalog } from "../../relayer/runs";
import { die } from "../exit";
import { type ChainFlags, DEFAULT_DEPLOYMENT, chainSettings, fastEngine, shutdownSignal } from "./chain";
import { openStore } from "./store";

export interface ServeFlags extends ChainFlags {
  port: number;
  host: string;
  rateLimit: number;
  publicRpc?: string;
  web: boolean;
}

export async function serve(o: ServeFlags): Promise<void> {
  const log = daemonLogger("api");
  let registry;
  let provider;
  let publicChain;
  // A chain that is configured but unusable is a startup error (exit 2); none configured: statuses Unknown.
  const chain = await chainSettings(o, true);
  if (chain === null) log.warn({ reason: `no --registry, ZKDL_REGISTRY, --deployment or ${DEFAULT_DEPLOYMENT}` }, "no chain configured: on-chain statuses will be Unknown");
  else {
    provider = daemonProvider(chain.rpc, chain.chainId);
    registry = ProofRegistry__factory.connect(chain.registry, provider);
    publicChain = { rpcUrl: o.publicRpc ?? chain.rpc, chainId: chain.chainId.toString(), registry: chain.registry };
  }
  const store = openStore(o.data!);
  const fast = fastEngine();
  const app = createApi({ catalog: new RunCatalog(store, fast.native ? "native" : "ts"), registry, log, engine: fast.engine, rateLimitPerMinute: o.rateLimit, publicChain, web: o.web });
  const server = app.listen(o.port, o.host);
  await new Promise<void>((res, rej) => server.once("listening", res).once("error", rej)).catch((e: NodeJS.ErrnoException) =>
    die(e.code === "EADDRINUSE" ? `port ${o.port} is in use: pass --port` : e.message),
  );
  const address = server.address() as { port: number };
  log.info({ url: `http://${o.host}:${address.port}` }, "listening");
  process.stdout.write(`serving http://${o.host}:${address.port} (${store.listRuns().length} runs; Ctrl-C to stop)\n`);
  const signal = shutdownSignal();
  await new Promise<void>((res) => signal.addEventListener("abort", () => res(), { once: true }));
  await new Promise<void>((res) => server.close(() => res()));
  store.close();
  provider?.destroy();
}
