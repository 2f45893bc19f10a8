/**
 * The `zkdl` commands that work on run folders alone: train and prove, verify, inspect
 * (docs/protocol.md §4). This file is the command table only — names, flags, help — and loads commander
 * and nothing else; each action requires its implementation (cli/actions/*) when it runs, so
 * `zkdl verify` never loads the prover's training code, and no run command loads the chain side.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { type Command, Option } from "commander";
import type { TrainFlags } from "./actions/train";
import type { VerifyFlags } from "./actions/verify";
import { guard } from "./exit";
import { int, layers, windowLength } from "./flags";

export function addRunCommands(program: Command): void {
  program
    .command("train")
    .description("train an MLP in fixed point, prove its SGD steps a window at a time, and write the run folder (public files + private/)")
    .option("--data <source>", "mnist, or a CSV file of f_1,…,f_d,label rows (features real, label a class 0…C−1)", "mnist")
    .option("--layers <widths>", "layer widths d_0,…,d_L (d_0 = features, d_L = classes)", layers, [784, 128, 10])
    .option("--batch <B>", "batch size (a power of two)", int("batch", 1, 4096), 64)
    // The run limits (at most 2^20 steps and records) are checked by the trainer, before any work.
    .option("--steps <N>", "SGD steps to train and prove", int("steps", 1, 2 ** 31), 10)
    .option(
      "--window <T>",
      "steps proven as one instance (a power of two, 1…1024, at most what the network allows; the rest of the steps in decreasing powers of two). Default: the largest T ≤ 64 (and ≤ the steps) whose prover fits about 8 GiB",
      windowLength,
    )
    .option("--records <N>", "records the dataset commits (MNIST: at most 8995)", int("records", 1, 2 ** 31))
    .option("--frac-bits <F>", "fixed-point scale 2^F (1…16)", int("frac-bits", 1, 16), 16)
    .option("--lr-shift <k>", "learning rate 2^-k on the batch-summed gradient (F + k in 17…32)", int("lr-shift", 0, 31), 9)
    .option("--seed <S>", "seed of the initial weights and of the batch schedule", "zkdl")
    .addOption(new Option("--publisher <address>", "the account that will register the run (bound into the proof; default: the address of ZKDL_PUBLISHER_KEY)"))
    .option("--out <dir>", "run folder to write", "runs/demo")
    .option("--force", "replace an existing run folder")
    .option("--json", "print the result as JSON")
    .action(guard((o: TrainFlags) => (require("./actions/train") as typeof import("./actions/train")).train(o)));

  program
    .command("verify")
    .description("verify a run from its public files: every window proof, the chain of weights, the dataset root (exit 0 valid, 1 invalid, 2 a missing or malformed file)")
    .argument("<run>", "run folder")
    .option("--json", "print the verdict as JSON")
    .option("--pure", "use only @noble/curves (no native addon)")
    .option("--publisher <address>", "also require the run to be bound to this publisher (e.g. the account that registered it)")
    .action(guard((dir: string, o: VerifyFlags) => (require("./actions/verify") as typeof import("./actions/verify")).verify(dir, o)));

  program
    .command("inspect")
    .description("summarise a run folder's manifest and files (no verification)")
    .argument("<run>", "run folder")
    .option("--json", "print the manifest as JSON")
    .action(guard((dir: string, o: { json?: boolean }) => (require("./actions/inspect") as typeof import("./actions/inspect")).inspect(dir, o)));
}
