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
  name: 'ranked', version: 1,
  description: 'Retrieved chunks re-ordered by POV score (L2 norm of the chunk x POV cosine row), with the plain similarity order beside it.',
  columns: {
    question_id: { kind: 'utf8' },
    pov_rank: { kind: 'int32' },          // 1-based order by POV score
    similarity_rank: { kind: 'int32' },   // 1-based order from retrieval
    chunk_id: { kind: 'utf8' },
    pov_score: { kind: 'float32' },
    similarity: { kind: 'float32' },
    in_context: { kind: 'bool' },         // among the top_n that become the context
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

/** Every contract by name: stage declarations (stage.json) name the contract of each artifact. */
export const CONTRACTS: Record<string, Contract> = Object.fromEntries(
  [Chunks, Questions, Povs, Preferences, DenseVectors, SparseVectors, Retrieved, Ranked, PovMatrix, Prompts, Completions, Rewards].map((c) => [c.name, c as Contract]),
);
