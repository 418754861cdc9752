import { defineContract, type Contract } from './contract.ts';

// The tables stages pass each other. Every stage README repeats the ones it reads and writes.

export const Chunks = defineContract({
  name: 'chunks', version: 1,
  description: 'Text chunks to retrieve from, one per CSV row or per split piece of a document.',
  columns: {
    chunk_id: { kind: 'utf8' },        // stable: hash of source path + position
    doc_id: { kind: 'utf8' },          // the file (and row id for CSV) the chunk came from
    source: { kind: 'utf8' },          // path as written in the pipeline file
    text: { kind: 'utf8' },
    start_index: { kind: 'int32' },    // character offset in the document (LangChain add_start_index)
    chunk_index: { kind: 'int32' },    // position among the document's chunks
    page: { kind: 'int32', nullable: true },      // PDF page (1-based) where the chunk starts
    metadata: { kind: 'utf8' },        // JSON object: CSV row fields, file name, ...
  },
});

export const Questions = defineContract({
  name: 'questions', version: 1,
  description: 'Questions with optional reference answers and a deterministic train/test split.',
  columns: {
    question_id: { kind: 'utf8' },
    question: { kind: 'utf8' },
    reference: { kind: 'utf8', nullable: true },
    split: { kind: 'utf8' },                 // 'train' | 'test'
    gold_chunk_ids: { kind: 'utf8-list' },   // known relevant chunks, empty when unknown
    source: { kind: 'utf8' },
  },
});

export const Povs = defineContract({
  name: 'povs', version: 1,
  description: 'User-written points of view used to re-rank retrieved context (seed 002).',
  columns: {
    pov_id: { kind: 'utf8' },
    text: { kind: 'utf8' },
    source: { kind: 'utf8' },
  },
});

export const Preferences = defineContract({
  name: 'preferences', version: 1,
  description: 'Pairwise preference data (seed 004): turns kept as JSON arrays of strings.',
  columns: {
    pair_id: { kind: 'utf8' },
    prompt: { kind: 'utf8-list' },
    response_a: { kind: 'utf8-list' },
    response_b: { kind: 'utf8-list' },
    winner: { kind: 'utf8', nullable: true }, // 'model_a' | 'model_b' | 'tie' | null when unlabelled
    source: { kind: 'utf8' },
  },
});

export const DenseVectors = defineContract({
  name: 'dense_vectors', version: 1,
  description: 'Dense embeddings; schema metadata ragrpo.model, ragrpo.role (query|document), ragrpo.dim, ragrpo.normalized.',
  columns: {
    id: { kind: 'utf8' },
    vector: { kind: 'float32-vector' },
  },
});

export const SparseVectors = defineContract({
  name: 'sparse_vectors', version: 1,
  description: 'Sparse BM25 vectors: document side carries saturated term frequencies, query side IDF weights, so a dot product is the BM25 score.',
  columns: {
    id: { kind: 'utf8' },
    indices: { kind: 'int32-list' },
    values: { kind: 'float32-list' },
  },
});

export const Retrieved = defineContract({
  name: 'retrieved', version: 1,
  description: 'Top-k chunks per question, best first.',
  columns: {
    question_id: { kind: 'utf8' },
    rank: { kind: 'int32' },          // 1-based
    chunk_id: { kind: 'utf8' },
    score: { kind: 'float32' },
    method: { kind: 'utf8' },         // dense | sparse | hybrid
    text: { kind: 'utf8' },
  },
});

export const Ranked = defineContract({
  name: 'ranked', version: 2,
  description: 'Retrieved chunks in context order (relevance and POV score blended by rank.pov_weight), with the pure POV order and the retrieval order beside it.',
  columns: {
    question_id: { kind: 'utf8' },
    context_rank: { kind: 'int32' },      // 1-based order by the blended score: the order the context takes
    pov_rank: { kind: 'int32' },          // 1-based order by POV score alone (seed 002)
    similarity_rank: { kind: 'int32' },   // 1-based order from retrieval
    chunk_id: { kind: 'utf8' },
    pov_score: { kind: 'float32' },
    similarity: { kind: 'float32' },
    blended_score: { kind: 'float32' },   // (1 - w) x normalised similarity + w x normalised POV score
    in_context: { kind: 'bool' },         // context_rank <= top_n: the chunks that become the context
    text: { kind: 'utf8' },
  },
});

export const PovMatrix = defineContract({
  name: 'pov_matrix', version: 1,
  description: 'The chunk x POV cosine matrix per question, long form.',
  columns: {
    question_id: { kind: 'utf8' },
    chunk_id: { kind: 'utf8' },
    pov_id: { kind: 'utf8' },
    cosine: { kind: 'float32' },
  },
});

export const Prompts = defineContract({
  name: 'prompts', version: 1,
  description: 'One prompt per question and template: the text the policy sees, its token ids, and the context it carries.',
  columns: {
    question_id: { kind: 'utf8' },
    split: { kind: 'utf8' },                   // 'train' | 'test'
    template: { kind: 'utf8' },                // template name (alpaca, chat, context_only, score_documents, or a file's name)
    is_main: { kind: 'bool' },                 // the main template (prompts.template); the others are variants
    question: { kind: 'utf8' },
    reference: { kind: 'utf8', nullable: true },
    prompt: { kind: 'utf8' },                  // rendered text (chat template applied when the template uses it)
    prompt_ids: { kind: 'int32-list' },
    prompt_tokens: { kind: 'int32' },
    context: { kind: 'utf8' },                 // the numbered documents the prompt carries ('' when none)
    chunk_ids: { kind: 'utf8-list' },          // chunks in the prompt, in prompt order
    chunks_dropped: { kind: 'int32' },         // in-context chunks dropped from the end to fit max_prompt_length
    no_context: { kind: 'bool' },              // nothing was retrieved for the question (or nothing fitted)
    truncated: { kind: 'bool' },               // even without context the prompt was too long: its first tokens were cut
  },
});

export const Completions = defineContract({
  name: 'completions', version: 1,
  description: 'Candidate groups per question (seed 000): greedy reference, temperature and template variants, plain samples.',
  columns: {
    question_id: { kind: 'utf8' },
    split: { kind: 'utf8' },
    group_index: { kind: 'int32' },            // position in the question's group
    variant: { kind: 'utf8' },                 // 'greedy' | 'temperature=0.7' | 'template=context_only' | 'sample'
    template: { kind: 'utf8' },
    temperature: { kind: 'float32' },
    completion: { kind: 'utf8' },              // the whole decoded text
    answer: { kind: 'utf8' },                  // the text after a <think>...</think> block (all of it when there is none)
    reasoning: { kind: 'utf8', nullable: true },   // inside <think>...</think>, null when there is none
    completion_ids: { kind: 'int32-list' },
    logprobs: { kind: 'float32-list' },        // per token, log p under softmax(logits / temperature)
    completion_tokens: { kind: 'int32' },
    finish_reason: { kind: 'utf8' },           // 'eos' | 'stop' | 'length'
  },
});

export const Rewards = defineContract({
  name: 'rewards', version: 1,
  description: 'Every reward per completion (one column per reward, schema metadata ragrpo.rewards lists them), the weighted total and the group-relative advantage.',
  columns: {
    question_id: { kind: 'utf8' },
    group_index: { kind: 'int32' },
    variant: { kind: 'utf8' },
    total: { kind: 'float32' },
    advantage: { kind: 'float32' },
  },
});

export const GrpoMetrics = defineContract({
  name: 'grpo_metrics', version: 1,
  description: "One row per GRPO step with TRL's metric names; schema metadata ragrpo.rewards lists the rewards, whose rewards/<name>/mean and rewards/<name>/std columns follow.",
  columns: {
    step: { kind: 'int32' },
    epoch: { kind: 'float32' },
    loss: { kind: 'float32' },
    grad_norm: { kind: 'float32' },
    learning_rate: { kind: 'float32' },
    reward: { kind: 'float32' },
    reward_std: { kind: 'float32' },
    frac_reward_zero_std: { kind: 'float32' },
    kl: { kind: 'float32', nullable: true },           // null when beta = 0 (no reference model)
    entropy: { kind: 'float32', nullable: true },
    'clip_ratio/low_mean': { kind: 'float32' },
    'clip_ratio/low_min': { kind: 'float32' },
    'clip_ratio/high_mean': { kind: 'float32' },
    'clip_ratio/high_max': { kind: 'float32' },
    'clip_ratio/region_mean': { kind: 'float32' },
    'completions/mean_length': { kind: 'float32' },
    'completions/min_length': { kind: 'float32' },
    'completions/max_length': { kind: 'float32' },
    'completions/mean_terminated_length': { kind: 'float32' },
    'completions/clipped_ratio': { kind: 'float32' },
    num_tokens: { kind: 'float32' },                   // cumulative prompt + completion tokens, as TRL counts
    step_time: { kind: 'float32' },                    // seconds
    tokens_per_second: { kind: 'float32' },
    'time/sampling': { kind: 'float32' },
    'time/scoring': { kind: 'float32' },
    'time/logprobs': { kind: 'float32' },
    'time/forward_backward': { kind: 'float32' },
    'time/optimizer': { kind: 'float32' },
    resampled_groups: { kind: 'int32' },               // dynamic_sampling: groups dropped and refilled this step
  },
});

export const CompletionsLog = defineContract({
  name: 'completions_log', version: 1,
  description: "Every completion grpo-train sampled (TRL's log_completions), with its rewards (reward_<name> columns, listed in ragrpo.rewards), advantage and provenance.",
  columns: {
    step: { kind: 'int32' },
    question_id: { kind: 'utf8' },
    group_index: { kind: 'int32' },
    prompt: { kind: 'utf8' },
    completion: { kind: 'utf8' },
    answer: { kind: 'utf8' },
    reasoning: { kind: 'utf8', nullable: true },
    completion_tokens: { kind: 'int32' },
    finish_reason: { kind: 'utf8' },
    total: { kind: 'float32' },
    advantage: { kind: 'float32' },
    generation_config: { kind: 'utf8' },               // JSON: the sampling settings of that step
    reward_spec_digest: { kind: 'utf8' },              // sha256 of reward_spec.json
  },
});

export const SftLoss = defineContract({
  name: 'sft_loss', version: 1,
  description: "The sft stage's loss curve: one row per optimizer step (step 0: the start, before any update), per phase.",
  columns: {
    phase: { kind: 'utf8' },                           // 'pretrain' | 'finetune'
    step: { kind: 'int32' },                           // 1-based within the phase; 0 = before the first update
    loss: { kind: 'float32' },                         // train loss of the step's batch (token mean), before its update
    eval_loss: { kind: 'float32', nullable: true },    // held-out (test split answers) loss after the step; null when not evaluated
    learning_rate: { kind: 'float32' },
    tokens: { kind: 'int32' },                         // tokens that carried loss in the step
  },
});

export const Eval = defineContract({
  name: 'eval', version: 1,
  description: "The test split's answers by the policy before training and after it (evaluate), one row per question, policy and sample, with every reward (reward_<name> columns, listed in schema metadata ragrpo.rewards).",
  columns: {
    question_id: { kind: 'utf8' },
    policy: { kind: 'utf8' },                  // 'before' | 'after'
    sample_index: { kind: 'int32' },           // 0..samples-1
    question: { kind: 'utf8' },
    reference: { kind: 'utf8', nullable: true },
    answer: { kind: 'utf8' },                  // the text after a <think> block
    reasoning: { kind: 'utf8', nullable: true },
    completion_tokens: { kind: 'int32' },
    finish_reason: { kind: 'utf8' },           // 'eos' | 'stop' | 'length'
  },
});

export const RetrievalMetrics = defineContract({
  name: 'retrieval_metrics', version: 1,
  description: 'Per question with gold chunks: where the first gold chunk sits in the index order and in the POV order, and whether it reached the prompt.',
  columns: {
    question_id: { kind: 'utf8' },
    split: { kind: 'utf8' },
    gold_chunks: { kind: 'int32' },
    index_rank: { kind: 'int32', nullable: true },     // 1-based rank of the first gold chunk in retrieval order, null when not retrieved
    pov_rank: { kind: 'int32', nullable: true },       // the same in POV order
    context_rank: { kind: 'int32', nullable: true },   // the same in the context order (ranked context_rank; POV order before ranked v2)
    in_context: { kind: 'bool' },                      // a gold chunk is among rank's in-context chunks
    in_prompt: { kind: 'bool' },                       // a gold chunk is in the main prompt (after chunks dropped to fit)
    in_similarity_top_n: { kind: 'bool' },             // a gold chunk would be in the context in plain retrieval order
  },
});

export const PreferencePredictions = defineContract({
  name: 'preference_predictions', version: 1,
  description: "Seed 004's prediction per pair: both sides' scores, the three probabilities, the label when known, and what the character budget kept.",
  columns: {
    pair_id: { kind: 'utf8' },
    score_a: { kind: 'float32', nullable: true },      // null when the scorer failed or gave no score (uniform prediction)
    score_b: { kind: 'float32', nullable: true },
    winner_model_a: { kind: 'float32' },
    winner_model_b: { kind: 'float32' },
    winner_tie: { kind: 'float32' },
    predicted: { kind: 'utf8' },                       // 'model_a' | 'model_b' | 'tie'
    winner: { kind: 'utf8', nullable: true },          // the label, null when unlabelled
    turns: { kind: 'int32' },
    turns_kept: { kind: 'int32' },                     // 0: even the first turn was over budget and was cut
    chars_kept: { kind: 'int32' },
    replica: { kind: 'int32' },
  },
});

/** Every contract by name: stage declarations (stage.json) name the contract of each artifact. */
export const CONTRACTS: Record<string, Contract> = Object.fromEntries(
  [Chunks, Questions, Povs, Preferences, DenseVectors, SparseVectors, Retrieved, Ranked, PovMatrix, Prompts, Completions, Rewards, GrpoMetrics, CompletionsLog, SftLoss, Eval, RetrievalMetrics, PreferencePredictions].map((c) => [c.name, c as Contract]),
);
