/**
 * What `ragrpo serve` runs: a model folder (and a PEFT adapter) on @ragrpo/model, behind the small interface the
 * HTTP layer needs (render the chat template, sample with a per-token text callback). Tests give the server a
 * scripted engine with the same interface.
 *
 * Sampling is @ragrpo/model's `sample` (the pipeline's sampler: one prefill, `n` completions decoded as one
 * batch, transformers' logit processors). The per-token callback rides on its stop-string hook, the one place
 * the sampler hands out each row's tokens as they grow: every row's decode(tokens) is called after each new
 * token, in row order, and a text containing a stop string ends that row. The engine ends rows itself (EOS, a
 * stop sequence the HTTP layer found, a client that went away) by returning a sentinel stop string.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLora, loadModel, Policy, readGenerationDefaults, sample, type ChatMessage, type GenerationDefaults, type Tokenizer } from '@ragrpo/model';

export interface EngineParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  repetitionPenalty: number;
  n: number;
  seed: number;
}

export interface EngineRow {
  tokens: number[];
  logprobs: number[];
  /** eos: the model ended it; stop: onText asked to stop; length: maxTokens */
  finish: 'eos' | 'stop' | 'length';
}

export interface RenderedChat {
  ids: number[];
  /** The generation prompt opened a <think> block (the reply starts inside it). */
  opensThink: boolean;
}

export interface ChatEngine {
  readonly modelId: string;
  /** Unix seconds: when the model was loaded. */
  readonly created: number;
  /** Prompt + completion tokens at most. */
  readonly contextLength: number;
  /** Sampling defaults from generation_config.json (null: OpenAI's default). */
  readonly defaults: Pick<GenerationDefaults, 'temperature' | 'topP' | 'topK' | 'repetitionPenalty'>;
  render(messages: ChatMessage[]): RenderedChat;
  /**
   * Samples `n` completions of the prompt. `onText(row, text)` gets each row's text (special tokens dropped)
   * after every new token; returning true ends that row (finish 'stop').
   */
  generate(promptIds: number[], p: EngineParams, onText: (row: number, text: string) => boolean): Promise<EngineRow[]>;
  tokenText(id: number): string;
  close(): Promise<void>;
}

const SENTINEL = '\u0000ragrpo:end-row\u0000';

export async function loadPolicyEngine(o: { model: string; adapter?: string; name?: string }): Promise<ChatEngine> {
  const folder = path.resolve(o.model);
  if (!fs.existsSync(path.join(folder, 'config.json'))) {
    throw new Error(`--model ${o.model}: no config.json in ${folder} (a Hugging Face model folder; make one from a GGUF with 'ragrpo import-gguf FILE --out DIR', or fetch SmolLM2 with 'npx tsx tools/models/fetch.ts all')`);
  }
  const model = await loadModel(folder);
  const tok = model.tokenizer;
  if (!tok) throw new Error(`--model ${o.model}: no tokenizer (tokenizer.json + tokenizer_config.json) in ${folder}`);
  if (!tok.hasChatTemplate) throw new Error(`--model ${o.model}: the tokenizer has no chat template (tokenizer_config.json chat_template), which /v1/chat/completions needs`);
  const lora = o.adapter ? loadLora(path.resolve(o.adapter), model.config) : null;
  const policy = new Policy({ config: model.config, weights: model.weights }, { lora, trainable: 'none' });
  const g = readGenerationDefaults(folder, model.config);
  const eos = new Set([...model.config.eosTokenIds, ...(tok.eosTokenId === null ? [] : [tok.eosTokenId])]);
  const id = o.name ?? (o.adapter ? `${path.basename(folder)}+${path.basename(path.resolve(o.adapter))}` : path.basename(folder));
  return new PolicyEngine(id, policy, tok, eos, model.config.maxPositionEmbeddings, g);
}

class PolicyEngine implements ChatEngine {
  readonly created = Math.floor(Date.now() / 1000);
  readonly defaults: ChatEngine['defaults'];

  constructor(
    readonly modelId: string,
    private readonly policy: Policy,
    private readonly tok: Tokenizer,
    private readonly eos: ReadonlySet<number>,
    readonly contextLength: number,
    g: GenerationDefaults,
  ) {
    this.defaults = { temperature: g.doSample === false ? 0 : g.temperature, topP: g.topP, topK: g.topK, repetitionPenalty: g.repetitionPenalty };
  }

  render(messages: ChatMessage[]): RenderedChat {
    const text = this.tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    // The chat template writes any BOS itself (as the prompts stage encodes it).
    return { ids: this.tok.encode(text, { addSpecialTokens: false }), opensThink: /<think>\s*$/.test(text) };
  }

  async generate(promptIds: number[], p: EngineParams, onText: (row: number, text: string) => boolean): Promise<EngineRow[]> {
    const rowOf = new Map<number[], number>();
    const seen: number[] = [];
    const texts: string[] = [];
    const ended: ('eos' | 'stop')[] = [];
    const decode = (ids: number[]): string => {
      let r = rowOf.get(ids);
      if (r === undefined) { r = rowOf.size; rowOf.set(ids, r); }
      if (seen[r] === ids.length) return ended[r] ? SENTINEL : texts[r];
      seen[r] = ids.length;
      const last = ids[ids.length - 1];
      const isEos = this.eos.has(last);
      const text = this.tok.decode(isEos ? ids.slice(0, -1) : ids, { skipSpecialTokens: true });
      texts[r] = text;
      const stop = onText(r, text);
      if (isEos || stop) { ended[r] = isEos ? 'eos' : 'stop'; return SENTINEL; }
      return text;
    };
    const [group] = await sample(this.policy, [promptIds], {
      maxNewTokens: p.maxTokens, temperature: p.temperature, topP: p.topP, topK: p.topK, minP: p.minP,
      repetitionPenalty: p.repetitionPenalty, groupSize: p.n, seed: p.seed,
      eosTokenIds: [], stopStrings: [SENTINEL], decode,
    });
    return group.map((c, g) => {
      const r = rowOf.get(c.tokens) ?? g;
      return { tokens: c.tokens, logprobs: c.logprobs, finish: ended[r] ?? 'length' };
    });
  }

  tokenText(id: number): string {
    return this.tok.decode([id], { skipSpecialTokens: false });
  }

  async close(): Promise<void> {
    await this.policy.release();
  }
}
