// The decode graph's additive attention bias, [N, 1, 1, S + 1]: which of a row's S cache slots its new token
// may attend to (0) and which not (MASKED); the last column is the new token itself and always open.
//
// Slot layout of row r (prompt length len, padded prompt length Tp): the prompt sits left-padded in slots
// [Tp - len, Tp), generated token i in slot Tp + i. Its position ids count real tokens, so token i is at
// position len + i. With Mistral's sliding window a query at position q sees keys at q - window + 1 .. q:
// every step one key leaves the window and its slot is closed again.
import { attends } from '../graphs/attention-window.ts';
import { MASKED } from '../graphs/llama-graph.ts';

export class DecodeBias {
  readonly data: Float32Array;
  private readonly width: number;

  constructor(
    private readonly promptLens: readonly number[],
    private readonly promptLen: number,
    capacity: number,
    private readonly window: number | null,
  ) {
    const N = promptLens.length;
    const Tp = promptLen;
    this.width = capacity + 1;
    this.data = new Float32Array(N * this.width).fill(MASKED);
    for (let r = 0; r < N; r++) {
      const len = promptLens[r];
      // the prompt positions the first new token (position len) still sees
      for (let s = Tp - len; s < Tp; s++) if (attends(window, len, s - (Tp - len))) this.data[r * this.width + s] = 0;
      this.data[r * this.width + capacity] = 0;
    }
  }

  /** Row r feeds generated token `step` (position len + step): the key `window` positions behind it leaves. */
  slide(r: number, step: number): void {
    if (this.window === null) return;
    const len = this.promptLens[r];
    const gone = len + step - this.window;
    if (gone >= 0) this.data[r * this.width + this.slotOf(len, gone)] = MASKED;
  }

  /** Every row's fed token now has its key in `slot`: the tokens after it attend to it. */
  open(slot: number): void {
    for (let r = 0; r < this.promptLens.length; r++) this.data[r * this.width + slot] = 0;
  }

  /** Cache slot of the key at `position` in a row whose prompt has `len` tokens. */
  private slotOf(len: number, position: number): number {
    const Tp = this.promptLen;
    return position < len ? Tp - len + position : Tp + position - len;
  }
}
