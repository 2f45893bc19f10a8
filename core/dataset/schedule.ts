/**
 * The batch schedule (docs/protocol.md §4.2): which records step t trains on, recomputable by any
 * verifier from the manifest. Epoch e is the permutation π_e of 0…N−1 drawn by Fisher–Yates from
 * SeededStream("zkdl-chain/v1/batches/<e>", seed); with S = ⌊N/B⌋ steps per epoch, step t takes
 * positions (t mod S)·B … (t mod S)·B + B − 1 of π_{⌊t/S⌋} (the last N mod B records of an epoch
 * wait for a later epoch's shuffle).
 */
import { SeededStream, permutation, seedBytes } from "../model/seeded";

export class BatchSchedule {
  /** The last epoch's permutation (steps come in order; an earlier epoch is drawn again). */
  private last?: { e: number; p: Int32Array };
  readonly stepsPerEpoch: number;

  constructor(
    readonly records: number,
    readonly batch: number,
    readonly seed: string,
  ) {
    if (!Number.isInteger(records) || !Number.isInteger(batch) || batch < 1 || records < batch) {
      throw new RangeError(`a batch of ${batch} needs at least that many records (have ${records})`);
    }
    this.stepsPerEpoch = Math.floor(records / batch);
  }

  private epoch(e: number): Int32Array {
    if (this.last?.e !== e) this.last = { e, p: permutation(new SeededStream(`zkdl-chain/v1/batches/${e}`, seedBytes(this.seed)), this.records) };
    return this.last.p;
  }

  /** Record indices of step t (0-based). */
  indices(t: number): Int32Array {
    if (!Number.isInteger(t) || t < 0) throw new RangeError(`step ${t}`);
    const e = Math.floor(t / this.stepsPerEpoch);
    const at = (t % this.stepsPerEpoch) * this.batch;
    return this.epoch(e).slice(at, at + this.batch);
  }

  /** Record indices of steps first … first + steps − 1, concatenated in step order: a window's stacked batch rows. */
  windowIndices(first: number, steps: number): Int32Array {
    const out = new Int32Array(steps * this.batch);
    for (let s = 0; s < steps; s++) out.set(this.indices(first + s), s * this.batch);
    return out;
  }
}
