/**
 * The flag parsers of the command tables (cli/flags.ts), which load commander alone: `--window`
 * repeats the protocol's MAX_WINDOW so that `zkdl --help` loads no protocol code, and this test holds
 * the two equal.
 */
import { expect } from "chai";
import { InvalidArgumentError } from "commander";
import { MAX_WINDOW_FLAG, windowLength } from "../../cli/flags";
import { MAX_WINDOW } from "../../core/training/window";

describe("zkdl flags: --window", () => {
  it("takes the protocol's window limit", () => {
    expect(MAX_WINDOW_FLAG).to.equal(MAX_WINDOW);
  });

  it("accepts a power of two from 1 to MAX_WINDOW and refuses anything else", () => {
    for (let T = 1; T <= MAX_WINDOW; T *= 2) expect(windowLength(String(T))).to.equal(T);
    for (const bad of ["0", "3", "6", "-4", "1.5", String(2 * MAX_WINDOW), "two", ""]) {
      expect(() => windowLength(bad), JSON.stringify(bad)).to.throw(InvalidArgumentError, `window must be a power of two from 1 to ${MAX_WINDOW}`);
    }
  });
});
