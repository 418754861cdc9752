/**
 * Specificity: how many concrete facts an answer states, for pipelines/arena-preference.yaml.
 *
 * Seed 004 scores each side of a Chatbot Arena pair with a reward model. None is on this machine, so
 * the offline pipeline uses this rule instead: a preferred answer names things (a wine, a region, a
 * year, the points, the price) where a dismissed one stays vague ("a nice wine that many people enjoy").
 * It counts numbers and capitalised words that do not start a sentence (the pronoun "I" excluded) and
 * maps 0..8 of them onto 0..1, so two vague answers both score near 0 and fall inside the 0.08 tie band.
 *
 * A custom reward module: the default export takes the batch (completions, one per side and pair) and
 * returns one number each. Replace it with a trained reward model by setting
 * evaluate.preference.scorer: { model: FOLDER } (a transformers.js sequence-classification folder).
 */
const FULL_MARKS = 8;

export function countSpecifics(text: string): number {
  let count = 0;
  for (const sentence of text.split(/(?<=[.!?;])\s+/)) {
    const words = sentence.match(/[\p{L}\p{N}$][\p{L}\p{N}'’.,$-]*/gu) ?? [];
    words.forEach((w, i) => {
      const word = w.replace(/[.,]+$/, '');
      if (/\d/.test(word)) count += 1;
      else if (i > 0 && word !== 'I' && /^\p{Lu}/u.test(word)) count += 1;
    });
  }
  return count;
}

export default function specificity(batch: { completions: string[] }): number[] {
  return batch.completions.map((c) => Math.min(countSpecifics(c), FULL_MARKS) / FULL_MARKS);
}
