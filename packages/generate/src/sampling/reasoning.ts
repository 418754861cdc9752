// Reasoning models return their thinking before the answer as <think>...</think> (seed 003's
// deepseek-reasoner gives it separately as reasoning_content): split it out so rewards score the answer.

export interface SplitCompletion {
  answer: string;
  /** The text inside <think>...</think>; null when the completion has no think block. */
  reasoning: string | null;
}

/**
 * `<think>r</think>a` -> { reasoning: r, answer: a }. A `</think>` without its opening tag (chat
 * templates that open the block in the prompt, as DeepSeek-R1's does) splits there too. An
 * unclosed `<think>` is all reasoning and no answer: the model never got to answer.
 */
export function splitReasoning(text: string): SplitCompletion {
  const open = text.indexOf('<think>');
  const close = text.indexOf('</think>', open >= 0 ? open : 0);
  if (close >= 0 && (open < 0 || open < close)) {
    const start = open >= 0 ? open + '<think>'.length : 0;
    return { reasoning: text.slice(start, close).trim(), answer: text.slice(close + '</think>'.length).trim() };
  }
  if (open >= 0) return { reasoning: text.slice(open + '<think>'.length).trim(), answer: '' };
  return { answer: text.trim(), reasoning: null };
}
