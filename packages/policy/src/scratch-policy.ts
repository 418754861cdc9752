import type { PolicyConfig } from '@ragrpo/config';
import { buildScratchModel, type ScratchModelResult } from '@ragrpo/model';

type Scratch = NonNullable<PolicyConfig['scratch']>;

/** The chunk texts the tokenizer is trained on, in chunk order, up to `maxChars` characters. */
export function trainingTexts(texts: readonly string[], maxChars: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const t of texts) {
    if (used >= maxChars) break;
    const piece = t.slice(0, maxChars - used);
    out.push(piece);
    used += piece.length;
  }
  return out;
}

/** `policy: scratch`: a byte-level BPE tokenizer trained on the chunks and seeded random weights of the named shape. */
export function buildScratchPolicy(out: string, s: Scratch, corpus: string[], seed: number): Promise<ScratchModelResult> {
  return buildScratchModel({
    out,
    arch: s.arch,
    layers: s.num_hidden_layers,
    hidden: s.hidden_size,
    heads: s.num_attention_heads,
    kvHeads: s.num_key_value_heads,
    intermediate: s.intermediate_size,
    maxPositions: s.max_position_embeddings,
    seed,
    initStd: s.initializer_range,
    corpus,
    vocabSize: s.vocab_size,
  });
}
