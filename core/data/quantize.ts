/**
 * How raw record values become fixed-point features at scale 2^F: the one definition shared by the
 * loaders (MNIST, CSV), the API and the SDK (also in the browser, hence its own dependency-free module).
 */

/** A pixel byte (0…255) at scale 2^F: round(b·2^F/255), so x ∈ [0, 2^F] (MNIST). */
export const quantizePixel = (byte: number, fracBits: number): number => Math.round((byte * 2 ** fracBits) / 255);

/** A real feature at scale 2^F: round(v·2^F) (CSV). */
export const quantizeFeature = (v: number, fracBits: number): number => Math.round(v * 2 ** fracBits);

/**
 * One 8-bit gray value per pixel of RGBA image data (a canvas's ImageData, a decoded PNG): the common
 * value where r = g = b (exact for grayscale images), else round(0.299r + 0.587g + 0.114b).
 */
export function grayPixels(rgba: ArrayLike<number>): number[] {
  return Array.from({ length: Math.floor(rgba.length / 4) }, (_, i) => {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    return r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  });
}
