/**
 * Reading a 1-10 score out of an LLM judge's free-text reply (seed 000's _extract_score_from_text,
 * made robust). In order:
 *   1. thinking is dropped: a <think>...</think> block (or text before a lone </think>) may hold
 *      any numbers; an unclosed <think> means no answer was given -> null
 *   2. markdown emphasis and headings (* _ ` #) are removed: "**Rating**: **8**" reads "Rating: 8",
 *      and so are scale phrases ("(1-10)", "1 to 10", "on a scale of 1 to 10"), whose numbers are no score
 *   3. "N/10", "N out of 10" anywhere wins (the first one)
 *   4. else a number after a score word: score, rating, rate(d), grade, give (it), Bewertung, Note, Punkte
 *   5. else the first number
 * The number may be a decimal (7.5, or 7,5 as German writes it). Outside 1..10 (0, 11, -3) or no
 * number at all -> null: the reply is counted as unparseable rather than guessed at.
 */
import { splitReasoning } from '@ragrpo/generate';

const NUM = String.raw`(-?\d+(?:[.,]\d+)?)`;
const OUT_OF_TEN = new RegExp(String.raw`(?<![\d.,])${NUM}\s*(?:/|out\s+of|von)\s*10(?![\d.,]*\d)`, 'i');
const SCORE_WORD = new RegExp(
  String.raw`\b(?:score|rating|rated|rate|grade|give(?:\s+it)?|bewertung|note|punkte?|punktzahl)\b[^\d\n-]{0,30}?(?<![\d.,])${NUM}(?![\d.,]*\d)`, 'i',
);
const SCALE = /\b(?:on\s+)?(?:a\s+)?(?:scale|range)\s+(?:of|from)\s+\d+\s*(?:-|–|to|bis)\s*\d+|\(?\b\d+\s*(?:-|–|to|bis)\s*10\b\)?/gi;
const FIRST_NUMBER = new RegExp(String.raw`(?<![\d.,\w])${NUM}(?![\d.,]*\d)`);

export function extractJudgeScore(reply: string): number | null {
  const { reasoning, answer } = splitReasoning(reply);
  const text = (reasoning === null ? reply : answer).replace(/[*_`#]/g, '').replace(SCALE, ' ');
  const m = text.match(OUT_OF_TEN) ?? text.match(SCORE_WORD) ?? text.match(FIRST_NUMBER);
  if (!m) return null;
  const score = Number(m[1].replace(',', '.'));
  return Number.isFinite(score) && score >= 1 && score <= 10 ? score : null;
}
