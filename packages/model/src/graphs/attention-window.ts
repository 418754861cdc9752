// Which keys a query may attend to, by token position (not by padded slot): causal, and for Mistral's sliding
// window only the last `window` positions (the query's own included), as transformers' sliding-window mask.
// The masks themselves are built in JS (graphs/batch-layout.ts for full sequences, sampling/decode-bias.ts for
// decode steps) and fed as attention_bias.

/** True when a query at position `q` sees a key at position `k`. */
export function attends(window: number | null, q: number, k: number): boolean {
  return k <= q && (window === null || q - k < window);
}
