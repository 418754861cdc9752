import { mulberry32, streamSeed } from '@ragrpo/config';

/** Where the sampler stands: a checkpoint stores it, so a resumed run draws the same prompts. */
export interface PromptSamplerState {
  epoch: number;
  index: number;
}

/**
 * Train prompts in a seeded order, epoch by epoch (a fresh permutation per epoch, as a shuffled
 * DataLoader gives). The order depends only on (seed, epoch), so the state is two integers.
 */
export class PromptSampler {
  private order: number[] = [];
  private orderEpoch = -1;

  constructor(readonly size: number, readonly seed: number, public state: PromptSamplerState = { epoch: 0, index: 0 }) {
    if (size === 0) throw new Error('grpo: the train split has no prompts; lower ingest.questions.test_fraction or add questions');
  }

  /** Epochs completed, fractionally (TRL logs `epoch` this way). */
  get epochs(): number {
    return this.state.epoch + this.state.index / this.size;
  }

  next(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.state.index >= this.size) this.state = { epoch: this.state.epoch + 1, index: 0 };
      if (this.orderEpoch !== this.state.epoch) {
        this.order = permutation(this.size, streamSeed(this.seed, `prompts:${this.state.epoch}`));
        this.orderEpoch = this.state.epoch;
      }
      out.push(this.order[this.state.index++]);
    }
    return out;
  }
}

/** Fisher-Yates with a seeded uniform stream. */
export function permutation(n: number, seed: number): number[] {
  const u = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
