/** Helpers shared by the native-core tests: byte packing of Fr arrays and coded-error assertions. */
import { expect } from "chai";
import { concatBytes } from "@noble/hashes/utils.js";
import { NativeError } from "../../native";
import { bigIntsToBytes, bytesToBigInts } from "../../core/crypto/bn254";

/** Byte strings end to end. */
export function concat(parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts);
}

/** Field elements as n×32 big-endian bytes. */
export function encodeFr(values: bigint[]): Uint8Array {
  return bigIntsToBytes(values);
}

/** n×32 big-endian bytes as field elements. */
export function decodeFr(bytes: Uint8Array): bigint[] {
  return bytesToBigInts(bytes);
}

/** Expects `f` to throw a NativeError with this code (and, if given, a matching message). */
export function expectCode(f: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).to.be.instanceOf(NativeError);
  expect((caught as NativeError).code).to.equal(code);
  if (message) expect((caught as NativeError).message).to.match(message);
}
