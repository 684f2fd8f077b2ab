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
