/**
 * The project's typed error for input it refuses: a setting, a flag, a data file, an option a caller
 * passed that this code cannot accept (a model the circuit cannot prove, more MNIST digits than there
 * are, a run folder that exists, a training run whose values leave the range the circuit proves). The
 * CLI shows these as one line and exits 2; any other error is a bug of ours (cli/exit.ts). An internal
 * invariant that fails still throws RangeError or Error. Browser-safe: no imports.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
