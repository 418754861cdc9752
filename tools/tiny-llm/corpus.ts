/**
 * The built-in English training text for the tiny tokenizers: template sentences about wine
 * tasting, retrieval and reinforcement learning, plus a few fixed lines with digits, punctuation,
 * code-ish text and non-ASCII characters so byte-level merges cover more than letters.
 * Fixed seed: every tiny model shares one tokenizer whatever its weight seed.
 */
import { mulberry32 } from '@ragrpo/config';

const WINES = ['Riesling', 'Pinot Noir', 'Chardonnay', 'Merlot', 'Syrah', 'Malbec', 'Sauvignon Blanc', 'Tempranillo', 'rosé', 'Cabernet'];
const REGIONS = ['Burgundy', 'Mosel', 'Rioja', 'Napa Valley', 'Barossa', 'Mendoza', 'Bordeaux', 'Willamette Valley', 'Marlborough', 'Rhône'];
const AROMAS = ['cherry', 'blackberry', 'lemon peel', 'green apple', 'vanilla', 'tobacco', 'pepper', 'honey', 'violet', 'oak', 'plum', 'mineral'];
const TEXTURES = ['silky', 'firm', 'crisp', 'round', 'dry', 'bright', 'dense', 'soft', 'tannic', 'balanced'];
const TASTERS = ['The taster', 'Our reviewer', 'She', 'He', 'The sommelier', 'A critic'];
const RL_SUBJECTS = ['The policy', 'The model', 'The agent', 'The trainer', 'Each completion', 'The reward model'];
const RL_VERBS = ['samples', 'scores', 'updates', 'clips', 'normalises', 'compares', 'retrieves', 'ranks'];
const RL_OBJECTS = [
  'a group of completions',
  'the advantage of each answer',
  'the ratio to the old policy',
  'the KL penalty against the reference',
  'the retrieved passages',
  'the reward for the final answer',
  'the log probabilities of each token',
  'the learning rate schedule',
];

const FIXED_LINES = [
  'Question: Which wine from the Mosel has notes of green apple? Answer: a dry Riesling.',
  'Score 92 points, priced at $35, tasted on 2021-06-14 at 18°C.',
  'Café owners in Zürich pour a crisp Grüner Veltliner — naïve but charming.',
  'GRPO computes advantages as (r - mean(r)) / std(r) within each group of 8 samples.',
  'loss = -min(ratio * adv, clip(ratio, 1 - eps, 1 + eps) * adv) + beta * kl',
  '<think> The user asks about tannins, so I should look at the retrieved reviews. </think>',
  'The answer is 42. The answer is not 41, and it is not 43!',
  'Retrieval-augmented generation finds passages with BM25 and dense embeddings, then reranks them.',
  'Tasting notes: "ripe plum, cedar; long finish." Vintage: 2015. Alcohol: 13.5%.',
  'Emoji are bytes too: 🍷 and 🍇, and Japanese ワイン means wine.',
];

/** Deterministic corpus of roughly `targetBytes` UTF-8 bytes (a few KB by default). */
export function tinyCorpus(targetBytes = 8000): string {
  const rand = mulberry32(20240607);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const lines: string[] = [...FIXED_LINES];
  let bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  let i = 0;
  while (bytes < targetBytes) {
    let line: string;
    switch (i % 4) {
      case 0:
        line = `${pick(TASTERS)} found the ${pick(WINES)} from ${pick(REGIONS)} ${pick(TEXTURES)}, with aromas of ${pick(AROMAS)} and ${pick(AROMAS)}.`;
        break;
      case 1:
        line = `This ${pick(TEXTURES)} ${pick(WINES)} scores ${80 + Math.floor(rand() * 20)} points and costs $${10 + Math.floor(rand() * 90)}.`;
        break;
      case 2:
        line = `${pick(RL_SUBJECTS)} ${pick(RL_VERBS)} ${pick(RL_OBJECTS)} before the next step.`;
        break;
      default:
        line = `When ${pick(RL_SUBJECTS).toLowerCase()} ${pick(RL_VERBS)} ${pick(RL_OBJECTS)}, the wine from ${pick(REGIONS)} tastes of ${pick(AROMAS)}.`;
    }
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
    i++;
  }
  return lines.join('\n') + '\n';
}
