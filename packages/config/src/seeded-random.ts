/**
 * Seeded pseudo-random numbers, so that the pipeline's `seed` (and every test fixture, tiny model
 * and benchmark input) reproduces exactly: mulberry32 (32-bit state, fast, well-mixed enough for
 * initialisation and sampling, not for cryptography) and Box-Muller normals. Same seed -> same
 * stream on every platform, because everything is 32-bit integer arithmetic plus IEEE double maths.
 */

/** mulberry32: returns a function yielding uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box-Muller (both outputs of each pair are used). */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = uniform();
    while (u === 0) u = uniform(); // log(0) guard
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** FNV-1a 32-bit hash of a string mixed with a seed: independent streams per tensor name. */
export function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // one extra avalanche round so nearby seeds give unrelated streams
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
