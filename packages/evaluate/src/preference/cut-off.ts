/** A preference pair's turns (seed 004: prompt, response_a, response_b as lists, one entry a turn). */
export interface PairTurns {
  prompt: string[];
  response_a: string[];
  response_b: string[];
}

export interface CutPair extends PairTurns {
  /** Turns kept from the front; 0 when even the first turn was over budget and its texts were cut. */
  turnsKept: number;
  /** Characters of prompt + both responses kept. */
  chars: number;
}

/** Code points, as Python's len and slicing count them (a UTF-16 surrogate pair is one character). */
const chars = (s: string) => [...s].length;
const head = (s: string, n: number) => [...s].slice(0, n).join('');

/**
 * Seed 004's cut_off: keep the first idx turns of prompt, response_a and response_b, the largest
 * idx whose prompt + both responses fit in `maxChars` characters together (so both sides keep the
 * same turns); when not even the first turn fits, keep only the first turn with the prompt cut to
 * 1000/7200 of the budget and each response to 3000/7200 (seed 004's 1000 and 3000 at 7200).
 */
export function cutOff(pair: PairTurns, maxChars = 7200): CutPair {
  const count = (idx: number) => [...pair.prompt.slice(0, idx), ...pair.response_a.slice(0, idx), ...pair.response_b.slice(0, idx)]
    .reduce((s, t) => s + chars(t), 0);
  for (let idx = pair.prompt.length; idx > 0; idx--) {
    const c = count(idx);
    if (c <= maxChars) {
      return { prompt: pair.prompt.slice(0, idx), response_a: pair.response_a.slice(0, idx), response_b: pair.response_b.slice(0, idx), turnsKept: idx, chars: c };
    }
  }
  const p = Math.floor((maxChars * 1000) / 7200);
  const r = Math.floor((maxChars * 3000) / 7200);
  const cut = { prompt: [head(pair.prompt[0] ?? '', p)], response_a: [head(pair.response_a[0] ?? '', r)], response_b: [head(pair.response_b[0] ?? '', r)] };
  return { ...cut, turnsKept: 0, chars: chars(cut.prompt[0]) + chars(cut.response_a[0]) + chars(cut.response_b[0]) };
}

/** One side as a scorer sees it: the conversation up to its last reply (the prompt) and that reply (the completion). */
export interface SideText {
  prompt: string;
  completion: string;
}

/**
 * Seed 004 builds each side as chat turns (user prompt_i, assistant response_i, ...). A scorer here
 * takes text, so the turns become a transcript: "User: p1\n\nAssistant: r1\n\n...User: pN\n\nAssistant: "
 * is the prompt and rN the completion (prompt + completion is the whole conversation).
 */
export function sideText(prompts: string[], responses: string[]): SideText {
  const n = Math.max(prompts.length, 1);
  let prompt = '';
  for (let i = 0; i < n; i++) {
    prompt += `User: ${prompts[i] ?? ''}\n\nAssistant: `;
    if (i < n - 1) prompt += `${responses[i] ?? ''}\n\n`;
  }
  return { prompt, completion: responses[n - 1] ?? '' };
}
