import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IngestSection, stageOutputWriter } from '@ragrpo/config';
import { Chunks, Questions, readTable, tableRows } from '@ragrpo/contracts';
import { ingestSummary, runIngest, writeIngestArtifacts } from '../src/index.ts';
import { repoRoot, tempDir } from './helpers.ts';

const WINE_SOURCE = '../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv';

describe('runIngest on the wine pipeline with the generated question set', () => {
  it('links every gold chunk id of datasets/wine-questions.jsonl to the row the question is about', async () => {
    const cfg = IngestSection.parse({
      documents: [{ kind: 'csv', path: WINE_SOURCE, id_column: 'id', template: '{title}\n{description}\nTasted by {taster_name}: {points} points.\nPrice: ${price}' }],
      questions: { path: 'datasets/wine-questions.jsonl', id_field: 'id', reference_field: 'reference', gold_field: 'gold_chunk_ids', test_fraction: 0.25 },
    });
    const warnings: string[] = [];
    const result = await runIngest(cfg, { seed: 0, resolve: (p) => path.resolve(repoRoot, p), warn: (m) => warnings.push(m) });
    expect(result.report.questions).toMatchObject({ count: 120, with_gold: 120, with_reference: 120, unknown_gold_ids: 0 });
    expect(warnings).toHaveLength(1); // only the truncated wine record
    const byId = new Map(result.chunks.map((c) => [c.chunk_id, c]));
    const lines = (await readFile(path.join(repoRoot, 'datasets', 'wine-questions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    for (const q of lines) {
      const row = JSON.parse(byId.get(q.gold_chunk_ids[0])!.metadata).row;
      if (q.kind === 'describe') expect(q.reference).toBe(row.title.trim());
      if (q.kind === 'taster') expect(q.question).toContain(row.title.trim());
      if (q.kind === 'score') expect(q.reference).toContain(`${row.points} points`);
    }

    const out = await tempDir();
    const written = await writeIngestArtifacts(result, stageOutputWriter('ingest', out));
    expect(written).toEqual(['chunks', 'questions', 'report']);
    const chunks = tableRows<{ chunk_id: string }>(await readTable(path.join(out, 'chunks.arrow'), Chunks));
    expect(chunks.length).toBe(result.chunks.length);
    const qs = tableRows<{ split: string; gold_chunk_ids: string[] }>(await readTable(path.join(out, 'questions.arrow'), Questions));
    expect(qs.filter((q) => q.split === 'test').length).toBe(result.report.questions!.test);
    expect(Array.from(qs[0].gold_chunk_ids)).toEqual(lines[0].gold_chunk_ids);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.skipped).toHaveLength(1);
    expect(ingestSummary(result)).toMatch(/^\d+ chunks from 1 source, 1 malformed record skipped \(line \d+\), 120 questions \(\d+ train \/ \d+ test\)$/);
  });
});
