/**
 * How raw record values become fixed-point features at scale 2^F: the one definition shared by the
 * loaders (MNIST, CSV), the API and the SDK (also in the browser, hence its own dependency-free module).
 */

/** A pixel byte (0…255) at scale 2^F: round(b·2^F/255), so x ∈ [0, 2^F] (MNIST). */
export const quantizePixel = (byte: number, fracBits: number): number => Math.round((byte * 2 ** fracBits) / 255);

/** A real feature at scale 2^F: round(v·2^F) (CSV). */
export const quantizeFeature = (v: number, fracBits: number): number => Math.round(v * 2 ** fracBits);
