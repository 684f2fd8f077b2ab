// Seeded randomness: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes PractRand)
// seeded through splitmix32. fork(label) derives an independent stream from the seed and the label only, so that
// adding draws to one stream never shifts another (e.g. the data loader's shuffle vs. the augmentations).

export interface RngState {
  words: number[];
  base: number[];
  spare: number | null;
}
export interface Rng {
  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number;
  /** The next raw 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n) (unbiased; n <= 2^32). */
  int(n: number): number;
  uniform(a: number, b: number): number;
  /** Standard normal (Box-Muller; the second value is kept for the next call). */
  normal(): number;
  /** Fisher-Yates shuffle in place; returns its argument. */
  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T;
  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** An independent generator determined by this generator's seed and `label` (not by draws made so far). */
  fork(label: string): Rng;
  getState(): RngState;
  setState(state: RngState): void;
}

/** splitmix32 step: returns [output, nextState]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let t = s ^ (s >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return [t >>> 0, s];
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function rngFromWords(base: number[]): Rng {
  let [a, b, c, d] = base.map((x) => x | 0);
  let spare: number | null = null;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextUint32(); // mix the seed words before use, as sfc32's author recommends
  const next = () => nextUint32() / 4294967296;
  const rng: Rng = {
    next,
    nextUint32,
    int(n) {
      if (!Number.isInteger(n) || n < 1 || n > 4294967296)
        throw new Error(`rng.int(n): n must be an integer in [1, 2^32], got ${n}`);
      const limit = 4294967296 - (4294967296 % n); // reject the biased top to keep every value equally likely
      for (;;) {
        const x = nextUint32();
        if (x < limit) return x % n;
      }
    },
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      const u1 = 1 - next(); // (0, 1]: log is finite
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
    shuffle(arr) {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = arr[i];
        arr[i] = arr[j];
        arr[j] = tmp;
      }
      return arr;
    },
    permutation(n) {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      return rng.shuffle(p);
    },
    fork(label) {
      let s = (base[0] ^ fnv1a(label)) | 0;
      const words: number[] = [];
      for (let i = 0; i < 4; i++) {
        const [out, ns] = splitmix32(s);
        s = ns;
        words.push((out ^ base[(i + 1) % 4]) >>> 0);
      }
      return rngFromWords(words);
    },
    getState: () => ({ words: [a >>> 0, b >>> 0, c >>> 0, d >>> 0], base: [...base], spare }),
    setState(state) {
      if (!Array.isArray(state?.words) || state.words.length !== 4)
        throw new Error('rng.setState: expected {words: [4 x uint32], base, spare}');
      [a, b, c, d] = state.words.map((x) => x | 0);
      base = [...state.base];
      spare = state.spare;
    },
  };
  return rng;
}

/** A generator for `seed` (any safe non-negative integer): the seed's low and high 32 bits go through splitmix32. */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`createRng(seed): seed must be a non-negative safe integer, got ${seed}`);
  let s = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296), 0x9e3779b9);
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [out, ns] = splitmix32(s);
    s = ns;
    words.push(out);
  }
  return rngFromWords(words);
}
