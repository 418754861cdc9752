/** One row of the `chunks` contract (see @ragrpo/contracts Chunks). */
export interface ChunkRow {
  chunk_id: string;
  doc_id: string;
  source: string;
  text: string;
  start_index: number;
  chunk_index: number;
  page: number | null;
  metadata: string;
}

export interface QuestionRow {
  question_id: string;
  question: string;
  reference: string | null;
  split: 'train' | 'test';
  gold_chunk_ids: string[];
  source: string;
}

export interface PovRow {
  pov_id: string;
  text: string;
  source: string;
}

export interface PreferenceRow {
  pair_id: string;
  prompt: string[];
  response_a: string[];
  response_b: string[];
  winner: 'model_a' | 'model_b' | 'tie' | null;
  source: string;
}

/** A record left out of the output, reported in report.json and as a warning. */
export interface SkippedRecord {
  source: string;
  line: number;
  reason: string;
}

/** Where a reader reports what it is doing: both optional so library callers can stay quiet. */
export interface ReadHooks {
  warn?: (msg: string) => void;
  /** Called once with the total, then per item done. */
  progress?: (task: string, total: number, unit: string) => { tick(n?: number): void; done(extra?: string): unknown };
}
