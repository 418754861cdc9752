/**
 * TRL's reward-function contract, in TypeScript. GRPOTrainer calls every reward function with the
 * prompts, the completions, the completion token ids and every dataset column (one entry per
 * completion) and takes back one float or None per completion; these types say the same.
 */

/** The dataset columns a reward sees, one entry per completion (a group repeats its question's row). */
export interface RewardColumns {
  question_id: string[];
  question: string[];
  /** The reference answer; null where the question has none (rewards that need one return null). */
  reference: (string | null)[];
  /** The retrieved, ranked context the prompt carried. */
  context: string[];
  [extra: string]: unknown[];
}

export interface RewardBatch {
  /** One per completion (a group repeats its prompt). */
  prompts: string[];
  /** The answer text (reasoning already split out by generate). */
  completions: string[];
  /** Token ids per completion (the policy's tokenizer). */
  completionIds: number[][];
  columns: RewardColumns;
}

/**
 * One number per completion, or null where the reward does not apply (TRL's None: it becomes NaN,
 * counts as 0 in the weighted sum and is left out of that reward's mean and std).
 */
export type RewardValues = (number | null)[];

export type RewardFunction = (batch: RewardBatch) => RewardValues | Promise<RewardValues>;

/** A sentiment label; lexicon classifiers give these three, a model's labels are mapped onto them. */
export type SentimentLabel = 'positive' | 'neutral' | 'negative';

/** What the LLM judge saw in one call: how many replies, and how many had no usable 1-10 score. */
export interface JudgeStats {
  replies: number;
  unparseable: number;
  /** Running totals since the reward function was created. */
  totalReplies: number;
  totalUnparseable: number;
}

/**
 * What a reward may need from its caller that cannot come from YAML options: models the stage
 * has loaded, and sinks for statistics. Everything is optional; a reward that needs a missing
 * dependency says so when it is created.
 */
export interface RewardDeps {
  /** LLM-as-judge: one reply per prompt (the stage wires a local policy model; tests a stub). */
  generateText?: (prompts: string[]) => Promise<string[]>;
  /**
   * Sentiment: replaces the built-in classifier (lexicon or model folder); returns one raw label
   * per text, which the `labels` option then maps like a model's labels.
   */
  classifySentiment?: (texts: string[]) => Promise<string[]>;
  /** reward_model: replaces the transformers.js model; returns one score (logit) per text. */
  scoreTexts?: (texts: string[]) => Promise<number[]>;
  /** Base folder for relative paths in options (model folders, stop-word files). Default: cwd. */
  root?: string;
  /** Called after every judge call with that call's and the running counts. */
  onJudgeStats?: (stats: JudgeStats) => void;
}
