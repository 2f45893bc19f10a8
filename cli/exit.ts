/**
 * How a zkdl command ends. Exit codes:
 *
 *   0   success (a valid run, a check that passes)
 *   1   a run that does not verify, a check that fails, a job that failed
 *   2   bad input: a missing or malformed file, a bad flag or setting — one line on stderr
 *   70  a bug in zkdl (any other error): "zkdl: internal error …" and the stack on stderr
 *
 * Bad input is recognised by type only: the project's typed errors for refused input (InputError,
 * RunFileError, RecordsFormatError, FixedPointOverflow). Anything else — a RangeError, a TypeError —
 * is ours, and reads as a bug rather than as a reason to change the input. No imports at load: the
 * typed errors' modules are required only once something was thrown.
 */

export const EXIT = { ok: 0, failed: 1, input: 2, bug: 70 } as const;

/** One line on stderr, then exit (bad input by default). */
export function die(message: string, code: number = EXIT.input): never {
  process.stderr.write(`zkdl: ${message}\n`);
  process.exit(code);
}

/** Ends the process for an error that is not the user's: the stack, exit 70. */
export function bug(e: unknown): never {
  const trace = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
  process.stderr.write(`zkdl: internal error (a bug in zkdl, not a problem with the input; please report it with this trace):\n${trace}\n`);
  process.exit(EXIT.bug);
}

/** Is `e` one of the project's typed errors for refused input? */
export function isInputError(e: unknown): e is Error {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const types = [
    (require("../core/errors") as typeof import("../core/errors")).InputError,
    (require("../core/run/files") as typeof import("../core/run/files")).RunFileError,
    (require("../prover/records") as typeof import("../prover/records")).RecordsFormatError,
    (require("../core/model/fixed") as typeof import("../core/model/fixed")).FixedPointOverflow,
  ];
  /* eslint-enable @typescript-eslint/no-require-imports */
  return types.some((T) => e instanceof T);
}

/** A command action whose refused input ends in one line and exit 2, and anything else as a bug. */
export function guard<T extends unknown[]>(f: (...args: T) => void | Promise<void>) {
  return async (...args: T): Promise<void> => {
    try {
      await f(...args);
    } catch (e) {
      if (isInputError(e)) die(e.message);
      bug(e);
    }
  };
}
