// The engine's seeded random stream: a thin class over @ragrpo/config's mulberry32 (the repository's one PRNG),
// so sampling, dropout masks and LoRA init reproduce from one integer seed across runs and machines. What this
// class adds is the seed mixing (nearby seeds give unrelated streams), uint32 draws and forks.
import { mulberry32 } from '@ragrpo/config';

const TWO_POW_32 = 4294967296;

export class Prng {
  private readonly draw: () => number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`PRNG seed must be a finite number, got ${seed}`);
    // Mix the seed, then drop the first draws, so that nearby seeds give unrelated streams.
    this.draw = mulberry32((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
    for (let i = 0; i < 4; i++) this.draw();
  }

  /** Uniform integer in [0, 2^32): mulberry32's raw output (its uniforms are exactly this / 2^32). */
  nextUint32(): number {
    return this.draw() * TWO_POW_32;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A derived generator, so that independent consumers do not shift each other's streams. */
  fork(salt: number): Prng {
    return new Prng((this.nextUint32() ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0);
  }
}
