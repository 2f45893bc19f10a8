/**
 * The step circuit (docs/protocol.md §4.4): one description of which tensors a training step commits
 * and which relations tie them, read by both the prover and the verifier, so the two walk the same
 * transcript by construction. Names: W<l> (the weights before the step: public, or derived from the
 * window's starting weights and the updates), X, Y (public: the batch's dataset rows); everything else
 * is witness, committed in `witness` order, or derived from it (`derived`: Z<l>, GA<l>, RU<l> from
 * their limbs). The next weights W<l> − U<l> are not a tensor of their own: their commitment is
 * derived from W<l>'s and U<l>'s rows (docs/protocol.md §4.4).
 *
 * Ranges (all lookups are against the one table [0, 2^16)):
 *   R<l>, RG<l> (rounding remainders)  ∈ [−2^(F−1), 2^(F−1)): R + 2^(F−1) (and, if F < 16, + 2^16 − 2^F)
 *   Z<l>, l < L:  Z = L0 + 2^16·L1 − 2^32·S (S binary: S is Z's sign bit, the ReLU mask)
 *   Z<L>, GA<l>:  V = L0 + 2^16·L1 − 2^31                   (V ∈ [−2^31, 2^31))
 *   U<l> (the update, at most half a unit per step):  U + 2^15 ∈ [0, 2^16), U looked up shifted
 *   RU<l> ∈ [−2^(F+k−1), 2^(F+k−1)):  RU = L0 + 2^16·L1 − 2^(F+k−1), L1 < 2^(F+k−16) (shifted lookup)
 *   X (the records' features), by the run's feature range:
 *     "unit" (reals in [0, 1]):  X = L0 + 2^F·L1, L0 ∈ [0, 2^F), L1 binary, L0·L1 = 0   (X ∈ [0, 2^F])
 *     "int32":                   X + 2^31 = L0 + 2^16·L1                              (32-bit integers)
 *   Y (labels): entries in {0, 2^F}, rows summing to 2^F
 *   padding: every column of X past `features` and of Y past `classes` is zero (a zero-check with a
 *     public column mask), so the one hot label entry is a real class, and the padding rows and
 *     columns of every weight matrix — zero in the seeded initial weights — stay zero.
 * Quotients are range-checked so that each rounding has exactly one witness (a remainder outside its
 * range, or a quotient that is not a small integer, cannot be proven).
 */
import type { Records } from "../data/records";
import { type ModelConfig, paddedLayers } from "../model/fixed";
import type { Identity } from "../protocol/relations";
import { MAX_VARS, type TensorShape, numVars } from "../protocol/hyrax";

export interface StepDims {
  /** log2 of the batch. */
  readonly logB: number;
  /** log2 of the padded layer widths d_0 … d_L. */
  readonly logDims: readonly number[];
  readonly fracBits: number;
  readonly lrShift: number;
  /** Logical widths of the input and output layers: X's columns ≥ features and Y's ≥ classes are padding. */
  readonly features: number;
  readonly classes: number;
  readonly featureRange: FeatureRange;
}

/** What the records' features are proven to be: "unit" = reals in [0, 1] (X ∈ [0, 2^F]), "int32" = 32-bit integers. */
export type FeatureRange = "unit" | "int32";
export const FEATURE_RANGES: readonly FeatureRange[] = ["unit", "int32"];

/**
 * A public factor of an identity check: the tensor that is 1 in every column ≥ `from` (the padding)
 * of a matrix of 2^logCols logical columns — the layer's width, whatever rows the tensors are
 * committed in. `from` = 0 is the all-ones tensor (a constant term).
 */
export interface ColumnMask {
  readonly from: number;
  readonly logCols: number;
}

/** The step dimensions of a model: log2 of the batch and of the padded widths, F and k, the logical input and output widths. */
export function stepDims(c: ModelConfig, featureRange: FeatureRange): StepDims {
  const L = c.layers.length - 1;
  return { logB: Math.log2(c.batch), logDims: paddedLayers(c).map(Math.log2), fracBits: c.fracBits, lrShift: c.lrShift, features: c.layers[0], classes: c.layers[L], featureRange };
}

/** "unit" when every feature is in [0, 2^F] (reals in [0, 1], e.g. pixels), else "int32". */
export function featureRangeOf(records: Records, fracBits: number): FeatureRange {
  const one = 2 ** fracBits;
  for (let i = 0; i < records.count * records.features; i++) if (records.x[i] < 0 || records.x[i] > one) return "int32";
  return "unit";
}

export interface OperandSpec {
  readonly name: string;
  readonly outerVars: number;
  readonly innerLow: boolean;
}

export interface ContractionSpec {
  readonly label: string;
  readonly left: OperandSpec;
  readonly right: OperandSpec;
  readonly targets: { coeff: bigint; name: string }[];
}

export type RelationSpec =
  /** batchVars: the window's step variables, shared by every operand and target (docs/protocol.md §3.9). */
  | { kind: "contraction"; label: string; innerVars: number; batchVars: number; items: ContractionSpec[] }
  /** Factor indices past `tensors` name `masks` (public). */
  | { kind: "identities"; label: string; tensors: string[]; masks: ColumnMask[]; identities: Identity[] }
  /** Every row of `name` sums to `total`: one claim name~((½,…,½) ‖ r) = total/2^cols at a random row point r. */
  | { kind: "rowsums"; label: string; name: string; total: bigint };

export interface LookupSpec {
  readonly name: string;
  readonly shift: bigint;
}

/** A tensor that is not committed but derived from committed ones of its shape: name = Σ coeff·T + constant. */
export interface DerivedSpec {
  readonly name: string;
  readonly terms: readonly { readonly coeff: bigint; readonly name: string }[];
  readonly constant: bigint;
}

export interface StepCircuit {
  readonly shapes: ReadonlyMap<string, TensorShape>;
  readonly publicInputs: readonly string[];
  readonly witness: readonly string[];
  /** Derived from the witness on row commitments and blindings alike, in this order, after it is committed. */
  readonly derived: readonly DerivedSpec[];
  readonly relations: readonly RelationSpec[];
  readonly lookups: readonly LookupSpec[];
}

const TWO16 = 1n << 16n;

interface IdentityGroup {
  readonly what: string;
  readonly tensors: string[];
  readonly masks: ColumnMask[];
  readonly identities: Identity[];
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const it of items) groups.set(key(it), [...(groups.get(key(it)) ?? []), it]);
  return [...groups.values()];
}

export function checkDims(d: StepDims): void {
  if (d.logDims.length < 2) throw new RangeError("a network has at least one layer");
  const L = d.logDims.length - 1;
  if (!Number.isInteger(d.features) || d.features < 1 || d.features > 2 ** d.logDims[0]) throw new RangeError("features must be 1 to the padded input width");
  if (!Number.isInteger(d.classes) || d.classes < 1 || d.classes > 2 ** d.logDims[L]) throw new RangeError("classes must be 1 to the padded output width");
  if (!FEATURE_RANGES.includes(d.featureRange)) throw new RangeError(`feature range must be one of ${FEATURE_RANGES.join(", ")}`);
  if (!Number.isInteger(d.fracBits) || d.fracBits < 1 || d.fracBits > 16) throw new RangeError("the step circuit needs 1 ≤ F ≤ 16");
  const fk = d.fracBits + d.lrShift;
  if (!(fk > 16 && fk <= 32)) throw new RangeError("the step circuit needs 16 < F + k ≤ 32");
}

/**
 * Stacked witness tensors are committed in wide rows: 2^WIDE_COLS columns (the key the lookup table
 * needs anyway), or one row if smaller — few row commitments in every proof and large, efficient
 * prover MSMs. The Hyrax split is only how a tensor is committed: relations read its multilinear
 * extension, the same whatever the split.
 */
export const WIDE_COLS = 12;

export function wideShape(n: number): TensorShape {
  const logRows = Math.max(0, n - WIDE_COLS);
  return { logRows, logCols: n - logRows };
}

/**
 * The shape of the weights (public: the run's weight commitments) and of their per-step updates:
 * at most 2^WIDE_COLS columns, but at least 2^4 rows (or half the variables).
 */
export function weightShape(n: number): TensorShape {
  const logRows = Math.max(n - WIDE_COLS, Math.min(4, Math.floor(n / 2)));
  return { logRows, logCols: n - logRows };
}

/**
 * The circuit of a window of 2^logSteps consecutive steps (docs/protocol.md §4.4): every tensor is the
 * step tensors stacked along logSteps new high variables (step t's entries follow step t − 1's), so
 * identities, row sums and lookups read as before over more entries, and contractions
 * carry the step variables as shared batch variables. logSteps = 0 is one step.
 */
export function stepCircuit(d: StepDims, logSteps = 0): StepCircuit {
  checkDims(d);
  if (!Number.isInteger(logSteps) || logSteps < 0 || logSteps > 20) throw new RangeError("a window has 2^0 to 2^20 steps");
  const L = d.logDims.length - 1;
  const F = BigInt(d.fracBits);
  const FK = BigInt(d.fracBits + d.lrShift);
  const shapes = new Map<string, TensorShape>();
  // X and Y are the dataset's record commitments: one row per record. W and U are committed per step
  // (the weight chain is derived row by row). Every other tensor is one wide stack.
  const records = (l: number): TensorShape => ({ logRows: d.logB + logSteps, logCols: d.logDims[l] });
  const batch = (l: number): TensorShape => wideShape(d.logB + logSteps + d.logDims[l]);
  const weight = (l: number): TensorShape => {
    const s = weightShape(d.logDims[l - 1] + d.logDims[l]);
    return { logRows: s.logRows + logSteps, logCols: s.logCols };
  };
  const weightStack = (l: number): TensorShape => wideShape(d.logDims[l - 1] + d.logDims[l] + logSteps);
  const witness: string[] = [];
  const add = (name: string, shape: TensorShape, isWitness = true) => {
    if (shape.logRows + shape.logCols > MAX_VARS) throw new RangeError(`a window of 2^${logSteps} steps stacks ${name} beyond 2^${MAX_VARS} entries`);
    shapes.set(name, shape);
    if (isWitness) witness.push(name);
  };
  add("X", records(0), false);
  add("Y", records(L), false);
  for (let l = 1; l <= L; l++) add(`W${l}`, weight(l), false);
  const act = (l: number) => (l === 0 ? "X" : `A${l}`);
  const gz = (l: number) => (l === L ? "G" : `GZ${l}`);
  for (const n of ["XL0", "XL1"]) add(n, batch(0));
  for (let l = 1; l <= L; l++) {
    add(`Z${l}`, batch(l), false);
    add(`R${l}`, batch(l));
    if (l < L) for (const n of [`S${l}`, `A${l}`]) add(n, batch(l));
    for (const n of [`Z${l}L0`, `Z${l}L1`]) add(n, batch(l));
  }
  add("G", batch(L));
  for (let l = L; l >= 1; l--) {
    if (l < L) add(`GZ${l}`, batch(l));
    if (l > 1) {
      add(`GA${l - 1}`, batch(l - 1), false);
      for (const n of [`RG${l - 1}`, `GA${l - 1}L0`, `GA${l - 1}L1`]) add(n, batch(l - 1));
    }
    add(`U${l}`, weight(l));
    add(`RU${l}`, weightStack(l), false);
    for (const n of [`RU${l}L0`, `RU${l}L1`]) add(n, weightStack(l));
  }

  // Contractions sharing an inner dimension are proven by one sumcheck (FAC4DNN): grouped below.
  const contractions: { innerVars: number; spec: ContractionSpec }[] = [];
  const contraction = (innerVars: number, spec: ContractionSpec) => contractions.push({ innerVars, spec });
  for (let l = 1; l <= L; l++) {
    contraction(d.logDims[l - 1], {
      label: `forward ${l}: A${l - 1}·W${l} = 2^F·Z${l} + R${l}`,
      left: { name: act(l - 1), outerVars: d.logB, innerLow: true },
      right: { name: `W${l}`, outerVars: d.logDims[l], innerLow: false },
      targets: [
        { coeff: 1n << F, name: `Z${l}` },
        { coeff: 1n, name: `R${l}` },
      ],
    });
  }
  const layerIdentities: IdentityGroup[] = [];
  for (let l = 1; l < L; l++) {
    layerIdentities.push({
      what: `layer ${l}: ReLU, sign bits, ReLU gradient`,
      tensors: [`A${l}`, `Z${l}`, `S${l}`, `GZ${l}`, `GA${l}`],
      masks: [],
      identities: [
        [
          { coeff: 1n, factors: [0] },
          { coeff: -1n, factors: [1] },
          { coeff: 1n, factors: [1, 2] },
        ],
        [
          { coeff: 1n, factors: [2, 2] },
          { coeff: -1n, factors: [2] },
        ],
        [
          { coeff: 1n, factors: [3] },
          { coeff: -1n, factors: [4] },
          { coeff: 1n, factors: [4, 2] },
        ],
      ],
    });
  }
  for (let l = L; l >= 1; l--) {
    contraction(d.logB, {
      label: `weight gradient ${l}: A${l - 1}ᵀ·GZ${l} = 2^(F+k)·U${l} + RU${l}`,
      left: { name: act(l - 1), outerVars: d.logDims[l - 1], innerLow: false },
      right: { name: gz(l), outerVars: d.logDims[l], innerLow: false },
      targets: [
        { coeff: 1n << FK, name: `U${l}` },
        { coeff: 1n, name: `RU${l}` },
      ],
    });
    if (l > 1) {
      contraction(d.logDims[l], {
        label: `backward ${l}: GZ${l}·W${l}ᵀ = 2^F·GA${l - 1} + RG${l - 1}`,
        left: { name: gz(l), outerVars: d.logB, innerLow: true },
        right: { name: `W${l}`, outerVars: d.logDims[l - 1], innerLow: true },
        targets: [
          { coeff: 1n << F, name: `GA${l - 1}` },
          { coeff: 1n, name: `RG${l - 1}` },
        ],
      });
    }
  }
  const relations: RelationSpec[] = [];
  for (const innerVars of [...new Set(contractions.map((c) => c.innerVars))]) {
    const items = contractions.filter((c) => c.innerVars === innerVars).map((c) => c.spec);
    relations.push({ kind: "contraction", label: items.map((i) => i.label).join("; "), innerVars, batchVars: logSteps, items });
  }
  // The records: features in their range with zero padding; labels one-hot at scale 2^F (every entry
  // 0 or 2^F, zero padding); the loss gradient G = Z_L − Y. X and Y are committed one record per row
  // and the witness in wide rows, so the relations tying them are identities (zero-checks on the
  // multilinear extensions), not linear relations on rows.
  const padding = (width: number, logCols: number): ColumnMask[] => (width < 2 ** logCols ? [{ from: width, logCols }] : []);
  const xMasks = padding(d.features, d.logDims[0]);
  const xIdentities: Identity[] = xMasks.map(() => [{ coeff: 1n, factors: [0, 3] }]);
  if (d.featureRange === "unit") {
    // X = L0 + 2^F·L1, L1 binary, L0·L1 = 0.
    xIdentities.push(
      [
        { coeff: 1n, factors: [0] },
        { coeff: -1n, factors: [1] },
        { coeff: -(1n << F), factors: [2] },
      ],
      [
        { coeff: 1n, factors: [2, 2] },
        { coeff: -1n, factors: [2] },
      ],
      [{ coeff: 1n, factors: [1, 2] }],
    );
  } else {
    // X + 2^31 = L0 + 2^16·L1 (the constant is a term without factors: c·Σ eq(τ, x) = c).
    xIdentities.push([
      { coeff: 1n, factors: [0] },
      { coeff: 1n << 31n, factors: [] },
      { coeff: -1n, factors: [1] },
      { coeff: -TWO16, factors: [2] },
    ]);
  }
  layerIdentities.push({ what: "features: range and zero padding", tensors: ["X", "XL0", "XL1"], masks: xMasks, identities: xIdentities });
  const yMasks = padding(d.classes, d.logDims[L]);
  layerIdentities.push({
    what: "labels: one-hot and zero padding",
    tensors: ["Y"],
    masks: yMasks,
    identities: [
      [
        { coeff: 1n, factors: [0, 0] },
        { coeff: -(1n << F), factors: [0] },
      ],
      ...yMasks.map((): Identity => [{ coeff: 1n, factors: [0, 1] }]),
    ],
  });
  layerIdentities.push({
    what: "loss gradient: G = Z_L − Y",
    tensors: ["G", `Z${L}`, "Y"],
    masks: [],
    identities: [
      [
        { coeff: 1n, factors: [0] },
        { coeff: -1n, factors: [1] },
        { coeff: 1n, factors: [2] },
      ],
    ],
  });
  // Identities over tensors of one size share one sumcheck: committed tensors first, then the masks,
  // each group's factor indices moved to match.
  for (const group of groupBy(layerIdentities, (li) => String(numVars(shapes.get(li.tensors[0])!)))) {
    const tensors = group.flatMap((g) => g.tensors);
    const masks = group.flatMap((g) => g.masks);
    const identities: Identity[] = [];
    let tensorAt = 0;
    let maskAt = tensors.length;
    for (const li of group) {
      const move = (f: number) => (f < li.tensors.length ? f + tensorAt : f - li.tensors.length + maskAt);
      for (const id of li.identities) identities.push(id.map((t) => ({ coeff: t.coeff, factors: t.factors.map(move) })));
      tensorAt += li.tensors.length;
      maskAt += li.masks.length;
    }
    relations.push({ kind: "identities", label: `identities (${group.map((g) => g.what).join("; ")})`, tensors, masks, identities });
  }
  // … and each label row sums to 2^F (exactly one hot entry).
  relations.push({ kind: "rowsums", label: "one label per record", name: "Y", total: 1n << F });
  // Values wider than the table are committed as 16-bit limbs only; the value itself is derived
  // from them (V = L0 + 2^16·L1 − offset, on row commitments), so its recomposition needs no proof.
  const derived: DerivedSpec[] = [];
  const fromLimbs = (v: string, extra: [bigint, string][], offset: bigint) =>
    derived.push({ name: v, terms: ([[1n, `${v}L0`], [TWO16, `${v}L1`], ...extra] as [bigint, string][]).map(([coeff, name]) => ({ coeff, name })), constant: -offset });
  for (let l = 1; l <= L; l++) {
    if (l < L) fromLimbs(`Z${l}`, [[-(1n << 32n), `S${l}`]], 0n);
    else fromLimbs(`Z${l}`, [], 1n << 31n);
  }
  for (let l = 1; l < L; l++) fromLimbs(`GA${l}`, [], 1n << 31n);
  for (let l = 1; l <= L; l++) fromLimbs(`RU${l}`, [], 1n << (FK - 1n));

  const lookups: LookupSpec[] = [];
  const remainder = (name: string) => {
    lookups.push({ name, shift: 1n << (F - 1n) });
    if (F < 16n) lookups.push({ name, shift: (1n << (F - 1n)) + TWO16 - (1n << F) });
  };
  for (let l = 1; l <= L; l++) remainder(`R${l}`);
  for (let l = 1; l < L; l++) remainder(`RG${l}`);
  const full = (v: string) => lookups.push({ name: `${v}L0`, shift: 0n }, { name: `${v}L1`, shift: 0n });
  if (d.featureRange === "unit") {
    lookups.push({ name: "XL0", shift: 0n });
    if (F < 16n) lookups.push({ name: "XL0", shift: TWO16 - (1n << F) });
  } else full("X");
  for (let l = 1; l <= L; l++) full(`Z${l}`);
  for (let l = 1; l < L; l++) full(`GA${l}`);
  for (let l = 1; l <= L; l++) {
    lookups.push({ name: `U${l}`, shift: 1n << 15n });
    full(`RU${l}`);
    if (FK < 32n) lookups.push({ name: `RU${l}L1`, shift: TWO16 - (1n << (FK - 16n)) });
  }

  const publicInputs = ["X", "Y", ...Array.from({ length: L }, (_, l) => `W${l + 1}`)];
  return { shapes, publicInputs, witness, derived, relations, lookups };
}
