/**
 * The HTTP API (`zkdl serve`), versioned under /v1 (OpenAPI document at /v1/openapi.json):
 *
 *   GET  /v1/runs                              runs served here, with their live on-chain status
 *   GET  /v1/runs/:runId                       manifest summary and on-chain status
 *   GET  /v1/runs/:runId/manifest              the canonical manifest.json
 *   GET  /v1/runs/:runId/dataset               record commitments and the OpenZeppelin tree dump
 *   GET  /v1/runs/:runId/bundle                the public bundle (what the registered URI points to)
 *   POST /v1/runs/:runId/membership            is this record in the run? (proofs if it is)
 *   GET  /v1/runs/:runId/records/:index/proof  the Merkle proof of one leaf
 *   GET  /v1/config                            the chain reported on (for browsers and SDK users)
 *   GET  /v1/examples/mnist                    public MNIST digits to try membership with
 *   GET  /                                     the web page (web/: /app.js, /verify-worker.js), GET /healthz, GET /metrics (Prometheus)
 *
 * Inputs are validated with zod; errors are JSON `{ error: { code, message } }` with a 4xx status;
 * bodies are size-limited and clients rate-limited. Nothing secret leaves: membership answers carry the
 * record's own leaf, Merkle path, commitment and a zero-knowledge opening proof, never a blinding,
 * another record or a weight.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import type pino from "pino";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { g1ToBytes, toHex } from "../core/crypto/bn254";
import { BYTES32_HEX, bytes32Hex } from "../core/crypto/hex";
import { mnistCount, mnistDigit } from "../prover/records";
import { proveRecordOpening } from "../core/dataset/membership";
import { inGap } from "../core/dataset/fingerprint-tree";
import type { MsmEngine } from "../core/protocol/group";
import { manifestBytes } from "../core/run/manifest";
import type { ProofRegistry } from "../typechain-types";
import { RunStatus, type RunStatusName } from "../client/registry";
import {
  type ChainStatus,
  type PublicChain,
  configAnswer,
  datasetAnswer,
  errorAnswer,
  examplesAnswer,
  firstIssue,
  membershipAnswer,
  membershipRequest,
  recordProofAnswer,
  runAnswer,
  runsAnswer,
} from "../client/api";
import { RecordError, parseMembershipRequest, quantizeRequest } from "../client/membership-request";
import { ApiError } from "./http-error";
import type { LoadedRun, RunCatalog } from "./runs";
import { webAssets } from "./web";

export interface ApiOptions {
  readonly catalog: RunCatalog;
  /** Read-only registry for live status; without it statuses are reported as unknown. */
  readonly registry?: ProofRegistry;
  readonly log: pino.Logger;
  /** Engine for the opening proofs' one fixed-base multiplication. */
  readonly engine?: MsmEngine;
  /** Requests per minute per client IP on /v1 (default 1200). */
  readonly rateLimitPerMinute?: number;
  /** Largest JSON body accepted (default 256 kB). */
  readonly bodyLimit?: string;
  /** How long an on-chain status is reused, in ms (default 2000). */
  readonly statusTtlMs?: number;
  /** The chain as browsers and SDK users should reach it (read-only JSON-RPC), told by /v1/config. */
  readonly publicChain?: PublicChain;
  /** Serve the web page at / (default true). */
  readonly web?: boolean;
  /**
   * Parse every /v1 JSON answer with the client's schema (client/api.ts) before sending it; one that
   * does not match is logged and answered 500 instead (default false; the tests turn it on).
   */
  readonly validateAnswers?: boolean;
}

export type { PublicChain };

/** Public MNIST digits for the page's gallery (a training-range digit i is record i of a run made from `mnist`). */
const exampleQuery = z
  .object({
    set: z.enum(["train", "test"]),
    from: z.coerce.number().int().min(0).default(0),
    count: z.coerce.number().int().min(1).max(64).default(8),
    distinct: z.enum(["true", "false"]).default("false").describe("at most one digit per label"),
  })
  .strict();

const RUN_ID = bytes32Hex("a run id is a 0x-prefixed 32-byte hex string");

function leafOf(run: LoadedRun, index: number) {
  const { cxHash, cyHash } = run.leaves[index];
  const leaf = { index: String(index), cxHash, cyHash };
  return { leaf, leafHash: run.tree.leafHash(index), proof: run.tree.getProof(index) };
}

/**
 * The page's Content-Security-Policy: scripts and the worker from this origin only, no plugins, no
 * framing, no <base>. connect-src stays open (*): the page reads the chain over JSON-RPC from whatever
 * endpoint the server names or the user pins (?rpc=…), which no fixed list can name.
 */
const WEB_CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src *; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function createApi(o: ApiOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const duration = new Histogram({ name: "zkdl_http_request_duration_seconds", help: "HTTP request latency", labelNames: ["route", "method", "status"], buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [metrics] });
  const membership = new Counter({ name: "zkdl_membership_queries_total", help: "Membership queries by answer", labelNames: ["answer"], registers: [metrics] });

  app.use((req, res, next) => {
    const end = duration.startTimer();
    res.on("finish", () => end({ route: (req.route?.path as string | undefined) ?? "unmatched", method: req.method, status: String(res.statusCode) }));
    next();
  });

  const statusCache = new Map<string, { at: number; value: Promise<ChainStatus> }>();
  const ttl = o.statusTtlMs ?? 2000;
  function chainStatus(runId: string): Promise<ChainStatus> {
    if (!o.registry) return Promise.resolve({ status: "Unknown", error: "no chain configured" });
    const hit = statusCache.get(runId);
    if (hit && Date.now() - hit.at < ttl) return hit.value;
    const value = o.registry.getRun(runId).then(
      (r): ChainStatus => ({ status: (RunStatus[Number(r.status)] as RunStatusName | undefined) ?? "Unknown", validCount: Number(r.validCount), invalidCount: Number(r.invalidCount), registeredAt: Number(r.registeredAt) }),
      (e: Error): ChainStatus => ({ status: "Unknown", error: `chain unreachable: ${e.message.slice(0, 120)}` }),
    );
    statusCache.set(runId, { at: Date.now(), value });
    return value;
  }

  function runOf(req: Request): LoadedRun {
    const id = RUN_ID.safeParse(req.params.runId);
    if (!id.success) throw new ApiError(400, "bad_run_id", id.error.issues[0].message);
    const run = o.catalog.get(id.data.toLowerCase());
    if (!run) throw new ApiError(404, "unknown_run", `no run ${id.data} is served here`);
    return run;
  }

  /**
   * Sends a JSON answer, typed by the client's schema; under validateAnswers, parsed with it first (an
   * answer the clients would refuse is a server bug: logged, and answered 500).
   */
  function send<S extends z.ZodType>(req: Request, res: Response, schema: S, body: z.input<S>): void {
    if (answers(req, res, schema, body)) res.json(body);
  }
  /** The same for an answer already serialized. */
  function sendText(req: Request, res: Response, schema: z.ZodType, text: string): void {
    if (!o.validateAnswers || answers(req, res, schema, JSON.parse(text))) res.type("application/json").send(text);
  }
  function answers(req: Request, res: Response, schema: z.ZodType, body: unknown): boolean {
    if (!o.validateAnswers) return true;
    const parsed = schema.safeParse(body);
    if (parsed.success) return true;
    o.log.error({ path: req.path, issues: parsed.error.issues.slice(0, 5) }, `answer does not match the client's schema: ${firstIssue(parsed.error)}`);
    res.status(500).json({ error: { code: "internal", message: "internal error" } });
    return false;
  }

  const summary = (run: LoadedRun) => ({
    runId: run.stored.runId,
    publisher: run.stored.publisher,
    manifestDigest: run.stored.manifestDigest,
    model: { layers: run.manifest.model.layers, fracBits: run.manifest.model.fracBits, batch: run.manifest.model.batch },
    steps: run.manifest.training.steps,
    data: run.manifest.data,
    dataset: { size: run.manifest.dataset.size, root: run.manifest.dataset.root },
    proofBytes: run.manifest.bundle.bytes,
  });

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true, runs: o.catalog.list().length, chain: o.registry ? "configured" : "none" });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  app.get("/v1/openapi.json", (_req, res) => {
    res.json(openApiDocument());
  });
  if (o.web ?? true) {
    const asset = (type: string, body: string, res: express.Response) => res.type(type).set({ "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" }).send(body);
    app.get("/", async (_req, res) => {
      asset("html", (await webAssets()).html, res.set("Content-Security-Policy", WEB_CSP));
    });
    app.get("/app.js", async (_req, res) => {
      asset("text/javascript", (await webAssets()).js, res);
    });
    app.get("/verify-worker.js", async (_req, res) => {
      asset("text/javascript", (await webAssets()).worker, res.set("Content-Security-Policy", WEB_CSP));
    });
  }

  const v1 = express.Router();
  const limit = o.rateLimitPerMinute ?? 1200;
  v1.use(
    rateLimit({
      windowMs: 60_000,
      limit,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (req, res) => send(req, res.status(429), errorAnswer, { error: { code: "rate_limited", message: `more than ${limit} requests a minute; slow down` } }),
    }),
  );
  v1.use(express.json({ limit: o.bodyLimit ?? "256kb", strict: true }));

  v1.get("/config", (req, res) => {
    send(req, res, configAnswer, { chain: o.publicChain ?? null });
  });
  v1.get("/examples/mnist", (req, res) => {
    const q = exampleQuery.safeParse(req.query);
    if (!q.success) throw new ApiError(400, "bad_query", firstIssue(q.error));
    const { set, from, count, distinct } = q.data;
    const examples: { set: typeof set; index: number; label: number; pixels: number[] }[] = [];
    for (let i = from; examples.length < count && i < mnistCount(set); i++) {
      const { label, pixels } = mnistDigit(set, i);
      if (distinct === "true" && examples.some((e) => e.label === label)) continue;
      examples.push({ set, index: i, label, pixels: Array.from(pixels) });
    }
    send(req, res, examplesAnswer, { examples });
  });
  v1.get("/runs", async (req, res) => {
    const runs = o.catalog.list().map((s) => o.catalog.get(s.runId)!);
    send(req, res, runsAnswer, { runs: await Promise.all(runs.map(async (r) => ({ ...summary(r), chain: await chainStatus(r.stored.runId) }))) });
  });
  v1.get("/runs/:runId", async (req, res) => {
    const run = runOf(req);
    send(req, res, runAnswer, { ...summary(run), chain: await chainStatus(run.stored.runId), manifest: run.manifest });
  });
  v1.get("/runs/:runId/manifest", (req, res) => {
    res.type("application/json").send(Buffer.from(manifestBytes(runOf(req).manifest)));
  });
  v1.get("/runs/:runId/dataset", (req, res) => {
    const run = runOf(req);
    const head = {
      runId: run.stored.runId,
      root: run.manifest.dataset.root,
      size: run.manifest.dataset.size,
      featureCols: run.dataset.featureCols,
      labelCols: run.dataset.labelCols,
      commitments: run.dataset.cx.map((cx, i) => ({ cx: toHex(g1ToBytes(cx)), cy: toHex(g1ToBytes(run.dataset.cy[i])) })),
    };
    sendText(req, res, datasetAnswer, JSON.stringify(head).slice(0, -1) + `,"tree":${run.treeJson.trim()}}`);
  });
  v1.get("/runs/:runId/bundle", (req, res) => {
    const run = runOf(req);
    res.set("X-Manifest-Digest", run.stored.manifestDigest).type("application/octet-stream").send(Buffer.from(run.bundle()));
  });
  v1.get("/runs/:runId/records/:index/proof", (req, res) => {
    const run = runOf(req);
    const index = z.coerce.number().int().min(0).safeParse(req.params.index);
    if (!index.success || !/^[0-9]+$/.test(String(req.params.index))) throw new ApiError(400, "bad_index", "the record index is a non-negative integer");
    if (index.data >= run.manifest.dataset.size) throw new ApiError(404, "unknown_record", `the run has ${run.manifest.dataset.size} records`);
    send(req, res, recordProofAnswer, { runId: run.stored.runId, root: run.manifest.dataset.root, index: index.data, ...leafOf(run, index.data) });
  });
  v1.post("/runs/:runId/membership", (req, res) => {
    const run = runOf(req);
    if (!req.is("application/json")) throw new ApiError(415, "unsupported_media_type", "send the record as a JSON body (Content-Type: application/json)");
    const body = parseMembershipRequest(req.body);
    const m = run.manifest;
    const x = quantizeRequest(body, m.data.features, m.model.fracBits);
    const digest = o.catalog.digestOf(x);
    const index = o.catalog.findRecord(run.stored.runId, digest);
    const base = { runId: run.stored.runId, root: m.dataset.root, recordDigest: digest };
    if (index === undefined) {
      // Not a member: the gap of the fingerprint tree that holds the record's fingerprint proves it (§5.3).
      if (body.fingerprint === undefined && !o.catalog.computesFingerprints) throw new ApiError(400, "fingerprint_required", "the record is not in the run: send its fingerprint with it to get the proof (keccak256 of Σ x_j·G_j, docs/protocol.md §5.3; the SDK does) — this server computes fingerprints only with its native core");
      const fingerprint = body.fingerprint?.toLowerCase() ?? o.catalog.fingerprintOf(run, x);
      const place = run.fingerprints.locate(fingerprint);
      if (place.member) {
        if (body.fingerprint !== undefined) throw new ApiError(400, "wrong_fingerprint", "the fingerprint sent is a trained record's, but this record is not in the run: it is not this record's fingerprint (docs/protocol.md §5.3)");
        throw new Error(`run ${run.stored.runId}: a record outside the record index has a dataset fingerprint (records.bin and dataset.bin disagree)`);
      }
      const gap = run.fingerprints.gap(place.gap);
      // Only a sentinel is in no gap: it is no record's fingerprint, and an answer about it would prove nothing.
      if (!inGap(fingerprint, gap)) throw new ApiError(400, "wrong_fingerprint", "the fingerprint sent is a sentinel of the fingerprint tree (0 or 2^256 − 1), no record's fingerprint (docs/protocol.md §5.3)");
      membership.inc({ answer: "not_member" });
      send(req, res, membershipAnswer, { member: false, ...base, fingerprint, fingerprintRoot: m.dataset.fingerprintRoot, gap, leafHash: run.fingerprints.leafHash(place.gap), proof: run.fingerprints.getProof(place.gap) });
      return;
    }
    const cx = run.dataset.cx[index];
    const opening = proveRecordOpening({ key: run.key, runId: run.stored.runId, index, cx, x, digest }, run.openings.xBlinds[index], o.engine);
    membership.inc({ answer: "member" });
    send(req, res, membershipAnswer, { member: true, ...base, index, ...leafOf(run, index), commitment: toHex(g1ToBytes(cx)), opening, generators: { label: m.generators.label, id: m.generators.id } });
  });
  app.use("/v1", v1);

  app.use((req, _res, next) => next(new ApiError(404, "not_found", `no route ${req.method} ${req.path}`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    let out: ApiError;
    if (err instanceof ApiError) out = err;
    else if (err instanceof RecordError) out = new ApiError(400, err.code, err.message);
    else if (e?.type === "entity.too.large") out = new ApiError(413, "body_too_large", `the body exceeds ${o.bodyLimit ?? "256kb"}`);
    else if (e?.type === "entity.parse.failed") out = new ApiError(400, "bad_json", "the body is not valid JSON");
    else if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) out = new ApiError(e.status, "bad_request", e.message ?? "bad request");
    else {
      o.log.error({ err, path: req.path }, "internal error");
      out = new ApiError(500, "internal", "internal error");
    }
    send(req, res.status(out.status), errorAnswer, { error: { code: out.code, message: out.message } });
  });
  return app;
}

/** The OpenAPI 3.1 description of the API. */
export function openApiDocument(): Record<string, unknown> {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: "any" });
  const error = schema(errorAnswer);
  const runId = { name: "runId", in: "path", required: true, schema: { type: "string", pattern: BYTES32_HEX.source } };
  const errors = { "400": { description: "bad input", content: { "application/json": { schema: error } } }, "404": { description: "unknown run or record", content: { "application/json": { schema: error } } }, "429": { description: "rate limited" } };
  const json = (description: string, answer?: z.ZodType) => ({ description, content: { "application/json": answer ? { schema: schema(answer) } : {} } });
  return {
    openapi: "3.1.0",
    info: { title: "zkdl-chain API", version: "1", description: "Run status, public proof bundles and record-membership proofs of zkDL training runs anchored in ProofRegistry." },
    paths: {
      "/v1/runs": { get: { summary: "Runs served here with live on-chain status", responses: { "200": json("runs", runsAnswer) } } },
      "/v1/runs/{runId}": { get: { summary: "One run: manifest, figures and on-chain status", parameters: [runId], responses: { "200": json("run", runAnswer), ...errors } } },
      "/v1/runs/{runId}/manifest": { get: { summary: "The canonical manifest.json (its keccak-256 is the registered manifest digest)", parameters: [runId], responses: { "200": json("manifest"), ...errors } } },
      "/v1/runs/{runId}/dataset": { get: { summary: "Record commitments (Cx, Cy per record, 64-byte EVM encodings) and the OpenZeppelin StandardMerkleTree dump", parameters: [runId], responses: { "200": json("dataset", datasetAnswer), ...errors } } },
      "/v1/runs/{runId}/bundle": { get: { summary: "The public bundle (ZKDLPUB1: manifest.json, dataset.bin, dataset-tree.json, proof.bin)", parameters: [runId], responses: { "200": { description: "bundle", content: { "application/octet-stream": {} } }, ...errors } } },
      "/v1/runs/{runId}/membership": {
        post: {
          summary: "Whether a record is in the run's training set, proven either way: for a member, its leaf, OpenZeppelin Merkle proof, commitment and a Schnorr proof that the commitment opens to the record; for a non-member, the gap of the run's fingerprint tree that strictly holds the record's fingerprint, with its Merkle proof (docs/protocol.md §5.3). Send the record's `fingerprint` with it (the SDK does); a server without its native core requires it",
          parameters: [runId],
          requestBody: { required: true, content: { "application/json": { schema: schema(membershipRequest) } } },
          responses: { "200": json("member (index, leaf, leafHash, proof, root, commitment, opening) or not (member: false, fingerprint, fingerprintRoot, gap, leafHash, proof)", membershipAnswer), "413": { description: "body too large" }, "415": { description: "not JSON" }, ...errors },
        },
      },
      "/v1/runs/{runId}/records/{index}/proof": { get: { summary: "The Merkle proof of one leaf", parameters: [runId, { name: "index", in: "path", required: true, schema: { type: "integer", minimum: 0 } }], responses: { "200": json("leaf and proof", recordProofAnswer), ...errors } } },
      "/v1/config": { get: { summary: "The chain this server reports on (read-only RPC URL, chain id, ProofRegistry address), or null", responses: { "200": json("config", configAnswer) } } },
      "/v1/examples/mnist": { get: { summary: "Public MNIST digits as 8-bit pixels (set=train|test, from, count ≤ 64), for trying membership", responses: { "200": json("examples", examplesAnswer), "400": errors["400"] } } },
      "/healthz": { get: { summary: "Liveness", responses: { "200": json("ok") } } },
      "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "text exposition format" } } } },
    },
  };
}
