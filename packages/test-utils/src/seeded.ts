// A 32-bit LCG (Numerical Recipes constants): tiny, fast and the same in every language, so the golden scripts
// can regenerate identical inputs; not for anything that needs statistical quality (core's Rng is for that).

/** A stream of values in [0, 1). */
export function lcgStream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** n values in [-0.5, 0.5), so every backend sees identical inputs. */
export function lcgFloats(n: number, seed: number): Float32Array {
  const next = lcgStream(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() - 0.5;
  return out;
}

/** A width x height uint8 HWC RGB image whose pixel (y, x) is (seed + 5x, seed + 3y, 7 seed + x + y) mod 256. */
export function patternRgb(width: number, height: number, seed: number): Uint8Array {
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      px[o] = (seed + x * 5) % 256;
      px[o + 1] = (seed + y * 3) % 256;
      px[o + 2] = (seed * 7 + x + y) % 256;
    }
  return px;
}
