import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chunks, Questions, Retrieved, readTable, tableRows } from '@ragrpo/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The DeepSeek-R1 paper through the real stage commands (ingest -> embed -> index), as Nx would
// run them, but into a private artifacts folder: "what is the GRPO?" must retrieve the paragraph
// that defines Group Relative Policy Optimization (section 2.2.1) within its top 5.
const root = path.resolve(import.meta.dirname, '../..');
const pdf = path.resolve(root, '..', 'shared', 'datasets', 'deepseek-r1-paper', 'DeepSeek_R1.pdf');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

interface ChunkRow { chunk_id: string; text: string; page: number | null }
interface RetrievedRow { question_id: string; rank: number; chunk_id: string }

/** The defining paragraph: names GRPO in full and says how it differs from PPO (no critic, group baseline). */
function definesGrpo(text: string): boolean {
  const flat = text.replace(/\s+/g, ' ');
  return flat.includes('Group Relative Policy Optimization (GRPO)') && flat.includes('foregoes the critic model')
    && flat.includes('estimates the baseline from group scores');
}

describe.skipIf(!existsSync(pdf))('DeepSeek-R1 PDF retrieval through the stage commands', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-pdf-e2e-'));
  const artifacts = path.join(tmp, 'artifacts');
  const pipeline = path.join(tmp, 'deepseek-grpo.yaml');
  const stageDir = (s: string) => path.join(artifacts, 'deepseek-grpo', s);

  beforeAll(() => {
    const questions = path.join(tmp, 'questions.jsonl');
    writeFileSync(questions, JSON.stringify({ id: 'grpo', question: 'what is the GRPO?' }) + '\n');
    writeFileSync(pipeline, `seed: 3
ingest:
  documents:
    - kind: pdf
      path: ${JSON.stringify(pdf)}
  splitter:
    chunk_size: 1000
    chunk_overlap: 50
  questions:
    path: ${JSON.stringify(questions)}
    id_field: id
embed:
  sparse: { language: english }
index:
  store: embedded
  search: sparse
  top_k: 5
`);
    for (const stage of ['ingest', 'embed', 'index']) {
      execFileSync(tsx, [`packages/${stage}/src/cli.ts`, '--pipeline', pipeline], {
        cwd: root,
        env: { ...process.env, RAGRPO_ARTIFACTS: artifacts },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    }
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('retrieves the chunk that defines GRPO within the top 5 for "what is the GRPO?"', async () => {
    const chunks = tableRows<ChunkRow>(await readTable(path.join(stageDir('ingest'), 'chunks.arrow'), Chunks));
    // The criterion must pick out the section 2.2.1 paragraph and nothing else, or the check is vacuous.
    const defining = chunks.filter((c) => definesGrpo(c.text));
    expect(defining.map((c) => c.page)).toEqual([5]);
    expect(defining[0].text).toContain('2.2.1');

    const [question] = tableRows<{ question_id: string; question: string }>(await readTable(path.join(stageDir('ingest'), 'questions.arrow'), Questions));
    expect(question.question).toBe('what is the GRPO?');
    const hits = tableRows<RetrievedRow>(await readTable(path.join(stageDir('index'), 'retrieved.arrow'), Retrieved))
      .filter((r) => r.question_id === question.question_id)
      .sort((a, b) => a.rank - b.rank);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.length).toBeLessThanOrEqual(5);
    expect(hits.map((h) => h.chunk_id)).toContain(defining[0].chunk_id);
  });
});
