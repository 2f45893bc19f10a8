/**
 * Group arithmetic for the protocols: multi-scalar multiplication behind an engine (pure
 * @noble/curves, or the native core as an accelerator: `native-engine.ts`), symbolic linear
 * combinations of points, and the verifier's equation set.
 *
 * The verifier never multiplies a point eagerly: every check it makes is an equation Σ s_i·P_i = 0,
 * collected in an EquationSet and settled at the end by one MSM of the equations combined with
 * fresh random weights (a false equation survives with probability 1/r). When the combined check
 * fails, each equation is checked alone to name the one that failed.
 */
import { pippenger } from "@noble/curves/abstract/curve.js";
import { G1, type G1Point } from "../crypto/bn254";
import { R, mul, randomFr } from "../crypto/fr";

export interface MsmEngine {
  readonly name: string;
  /** Σ scalars[i]·points[i]; scalars canonical. */
  msm(points: readonly G1Point[], scalars: readonly bigint[]): G1Point;
}

export const nobleEngine: MsmEngine = {
  name: "noble",
  msm(points, scalars) {
    if (points.length !== scalars.length) throw new RangeError("msm: points and scalars differ in length");
    const ps: G1Point[] = [];
    const ss: bigint[] = [];
    for (let i = 0; i < points.length; i++) {
      if (scalars[i] === 0n || points[i].equals(G1.ZERO)) continue;
      ps.push(points[i]);
      ss.push(scalars[i]);
    }
    if (ps.length === 0) return G1.ZERO;
    if (ps.length === 1) return ps[0].multiply(ss[0]);
    return pippenger(G1, ps, ss);
  },
};

/** A linear combination Σ s·P of points, kept symbolic (points keyed by identity). */
export class Lin {
  readonly terms = new Map<G1Point, bigint>();

  static of(point: G1Point, scalar = 1n): Lin {
    return new Lin().add(point, scalar);
  }

  add(point: G1Point, scalar = 1n): this {
    let s = ((this.terms.get(point) ?? 0n) + scalar) % R;
    if (s < 0n) s += R;
    if (s === 0n) this.terms.delete(point);
    else this.terms.set(point, s);
    return this;
  }

  addLin(other: Lin, scalar = 1n): this {
    for (const [p, s] of other.terms) this.add(p, mul(s, scalar));
    return this;
  }

  scaled(scalar: bigint): Lin {
    return new Lin().addLin(this, scalar);
  }

  evaluate(engine: MsmEngine): G1Point {
    return engine.msm([...this.terms.keys()], [...this.terms.values()]);
  }
}

/** The verifier's pending equations Σ s·P = 0, each with a reason to report if it fails. */
export class EquationSet {
  private readonly equations: { reason: string; lin: Lin }[] = [];

  /** Requires `lin` to be the identity. */
  require(reason: string, lin: Lin): void {
    this.equations.push({ reason, lin });
  }

  /** Requires a = b. */
  requireEqual(reason: string, a: Lin, b: Lin): void {
    this.require(reason, new Lin().addLin(a).addLin(b, R - 1n));
  }

  get size(): number {
    return this.equations.length;
  }

  /**
   * Settles several sets with one MSM (their equations combined with random weights): null when
   * every equation of every set holds, else the first failing set's index and reason (found by
   * settling the sets one by one, only then).
   */
  static settleAll(sets: readonly EquationSet[], engine: MsmEngine): { index: number; reason: string } | null {
    const combined = new Lin();
    for (const set of sets) for (const { lin } of set.equations) combined.addLin(lin, randomFr() || 1n);
    if (combined.evaluate(engine).equals(G1.ZERO)) return null;
    for (let index = 0; index < sets.length; index++) {
      const reason = sets[index].settle(engine);
      if (reason !== null) return { index, reason };
    }
    return { index: sets.length - 1, reason: "batched group check failed" };
  }

  /** null when every equation holds, else the reason of the first one that does not. */
  settle(engine: MsmEngine): string | null {
    if (this.equations.length === 0) return null;
    const combined = new Lin();
    for (const { lin } of this.equations) combined.addLin(lin, randomFr() || 1n);
    if (combined.evaluate(engine).equals(G1.ZERO)) return null;
    for (const { reason, lin } of this.equations) if (!lin.evaluate(engine).equals(G1.ZERO)) return reason;
    // Unreachable unless the random weights cancelled a failure (probability ~ 1/r); be strict anyway.
    return "batched group check failed";
  }
}
