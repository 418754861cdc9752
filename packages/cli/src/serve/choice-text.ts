/**
 * One choice's text as the model writes it, turned into what the API returns: DeepSeek's split of a
 * `<think>...</think>` block into `reasoning_content` and the answer into `content`, and OpenAI's stop
 * sequences (the reply ends before the first one, which is not included).
 *
 * Streaming and non-streaming replies come from the same view of the raw text, so the streamed deltas always
 * join to the non-streamed message. While the text is incomplete the view holds back what could still change:
 * a prefix of `<think>` at the start, a prefix of `</think>` or trailing whitespace in the reasoning, and a
 * prefix of a stop sequence at the end of the content.
 *
 * Rules (generate's splitReasoning, with the answer kept verbatim):
 *   - the text opens with `<think>` (after whitespace), or the prompt's generation prompt opened it (chat
 *     templates such as DeepSeek-R1's end with `<think>\n`): the reasoning runs to `</think>`, trimmed; the
 *     content is what follows, without its leading whitespace; an unclosed block is all reasoning;
 *   - otherwise there is no reasoning and the content is the text exactly;
 *   - stop sequences apply to the content.
 */

export interface ChoiceView {
  reasoning: string | null;
  content: string;
  /** A stop sequence ended the content. */
  stopped: boolean;
}

const OPEN = '<think>';
const CLOSE = '</think>';

/** The length of the longest suffix of `s` that is a proper prefix of one of `marks`. */
function heldSuffix(s: string, marks: readonly string[]): number {
  let best = 0;
  for (const m of marks) {
    for (let k = Math.min(m.length - 1, s.length); k > best; k--) {
      if (s.endsWith(m.slice(0, k))) { best = k; break; }
    }
  }
  return best;
}

export function viewChoice(raw: string, o: { opensThink: boolean; stops: readonly string[]; final: boolean }): ChoiceView {
  // An incomplete UTF-8 sequence decodes to U+FFFD at the end: wait for its other bytes.
  const text = o.final ? raw : raw.replace(/\uFFFD+$/, '');
  let reasoning: string | null = null;
  let contentRaw: string;
  let start = -1;
  if (o.opensThink) start = 0;
  else {
    const t = text.trimStart();
    if (t.startsWith(OPEN)) start = text.length - t.length + OPEN.length;
    else if (!o.final && OPEN.startsWith(t)) return { reasoning: null, content: '', stopped: false };
  }
  if (start >= 0) {
    const close = text.indexOf(CLOSE, start);
    if (close >= 0) {
      reasoning = text.slice(start, close).trim();
      contentRaw = text.slice(close + CLOSE.length).trimStart();
    } else {
      let r = text.slice(start);
      if (!o.final) r = r.slice(0, r.length - heldSuffix(r, [CLOSE])).trimEnd();
      return { reasoning: r.trim(), content: '', stopped: false };
    }
  } else contentRaw = text;
  let cut = -1;
  for (const s of o.stops) {
    const i = contentRaw.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  if (cut >= 0) return { reasoning, content: contentRaw.slice(0, cut), stopped: true };
  const content = o.final ? contentRaw : contentRaw.slice(0, contentRaw.length - heldSuffix(contentRaw, o.stops));
  return { reasoning, content, stopped: false };
}

/** Tracks what a streamed choice has sent, and hands out the next deltas. */
export class ChoiceStream {
  private sentReasoning = '';
  private sentContent = '';
  view: ChoiceView = { reasoning: null, content: '', stopped: false };

  constructor(private readonly o: { opensThink: boolean; stops: readonly string[] }) {}

  /** The new view of the raw text so far (final: the text is complete) and the deltas it adds. */
  update(raw: string, final = false): { reasoning_content?: string; content?: string } {
    if (this.view.stopped) return {};
    const v = viewChoice(raw, { ...this.o, final });
    const delta: { reasoning_content?: string; content?: string } = {};
    const r = v.reasoning ?? '';
    if (r.length > this.sentReasoning.length && r.startsWith(this.sentReasoning)) {
      delta.reasoning_content = r.slice(this.sentReasoning.length);
      this.sentReasoning = r;
    }
    if (v.content.length > this.sentContent.length && v.content.startsWith(this.sentContent)) {
      delta.content = v.content.slice(this.sentContent.length);
      this.sentContent = v.content;
    }
    this.view = v;
    return delta;
  }
}
