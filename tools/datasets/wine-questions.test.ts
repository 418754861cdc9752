import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { IngestSection } from '@ragrpo/config';
import { csvRowChunkId, decodeUtf8, runIngest } from '@ragrpo/ingest';
import { generateWineQa, generateWineQuestions, WINE_QA_KINDS } from './wine-questions.ts';

const root = path.resolve(import.meta.dirname, '../..');
const SOURCE = '../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv';
const csvFile = path.resolve(root, SOURCE);
const readJsonl = (f: string) => readFileSync(path.join(root, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const HEADER = 'id,country,description,points,price,province,taster_name,title,variety';
const SMALL = [
  HEADER,
  '0,Italy,"Bright cherry and rose petals over firm, dusty tannins and a long finish.",91,40,Piedmont,Kerin O’Keefe,Vietti 2012 Castiglione (Barolo),Nebbiolo',
  '1,US,"Short.",86,,California,,Bogle 2015 Merlot (California),Merlot',
  '2,France,"Ripe yellow plum and toasted hazelnut make this a rich, broad Chardonnay.",88,25,Burgundy,Roger Voss,Louis Latour 2014 Pouilly-Fuissé,Chardonnay',
].join('\n');

describe('the learning set (--set qa)', () => {
  it('asks every kind a wine has an answer for, with the row key as its group', () => {
    const qs = generateWineQa(SMALL, 'small.csv', { source: 'small.csv', idColumn: 'id', count: 100, seed: 0 });
    const byWine = new Map<string, string[]>();
    for (const q of qs) byWine.set(q.wine, [...(byWine.get(q.wine) ?? []), q.kind]);
    // Wine 1 has no taster, no price and an opening too short to identify it.
    expect(byWine.get('1')).toEqual(['variety', 'country', 'points']);
    expect(byWine.get('0')).toEqual([...WINE_QA_KINDS]);
    expect(byWine.get('2')).toEqual([...WINE_QA_KINDS]);
    const v0 = Object.fromEntries(qs.filter((q) => q.wine === '0').map((q) => [q.kind, q]));
    expect(v0.variety.reference).toBe('Nebbiolo');
    expect(v0.country.reference).toBe('Italy');
    expect(v0.taster.reference).toBe('Kerin O’Keefe');
    expect(v0.points.reference).toBe('91');
    expect(v0.price.reference).toBe('40');
    expect(v0.describe.reference).toBe('Vietti 2012 Castiglione (Barolo)');
    expect(v0.describe.question).toBe('Which wine is described as: "Bright cherry and rose petals over firm, dusty tannins and a long finish."?');
    expect(v0.points.question).toBe('How many points did Vietti 2012 Castiglione (Barolo) score?');
    expect(qs.every((q) => q.gold_chunk_ids.length === 1 && q.gold_chunk_ids[0] === csvRowChunkId('small.csv', q.wine))).toBe(true);
    expect(new Set(qs.map((q) => q.id)).size).toBe(qs.length);
    // Deterministic, and the count is a cap.
    expect(generateWineQa(SMALL, 'small.csv', { source: 'small.csv', idColumn: 'id', count: 100, seed: 0 })).toEqual(qs);
    expect(generateWineQa(SMALL, 'small.csv', { source: 'small.csv', idColumn: 'id', count: 4, seed: 0 })).toEqual(qs.slice(0, 4));
  });

  it('takes the kinds in turn across wines with --per-wine', () => {
    const qs = generateWineQa(SMALL, 'small.csv', { source: 'small.csv', idColumn: 'id', count: 100, seed: 0, perWine: 2 });
    const perWine = new Map<string, number>();
    for (const q of qs) perWine.set(q.wine, (perWine.get(q.wine) ?? 0) + 1);
    expect([...perWine.values()].every((n) => n <= 2)).toBe(true);
    // The second wine starts where the first stopped (kinds 2 and 3), so kinds rotate.
    const wines = [...perWine.keys()];
    expect(qs.filter((q) => q.wine === wines[0]).map((q) => q.kind)).toEqual(['variety', 'country']);
  });
});

describe.skipIf(!existsSync(csvFile))('the generated files in datasets/', () => {
  const csv = existsSync(csvFile) ? decodeUtf8(readFileSync(csvFile), csvFile) : '';

  it('are what the generator writes (datasets/wine-questions.jsonl unchanged, datasets/wine-qa.jsonl up to date)', () => {
    const classic = generateWineQuestions(csv, csvFile, { source: SOURCE, idColumn: 'id', count: 120, seed: 0 });
    expect(classic).toEqual(readJsonl('datasets/wine-questions.jsonl'));
    const qa = generateWineQa(csv, csvFile, { source: SOURCE, idColumn: 'id', count: 3000, seed: 0 });
    expect(qa).toEqual(readJsonl('datasets/wine-qa.jsonl'));
  });

  it('answer from the gold chunk of the default pipeline, split by wine', async () => {
    const pipeline = parse(readFileSync(path.join(root, 'pipelines', 'pipeline.yaml'), 'utf8'));
    const cfg = IngestSection.parse(pipeline.ingest);
    expect(cfg.questions?.path).toBe('datasets/wine-qa.jsonl');
    const warnings: string[] = [];
    const result = await runIngest(cfg, { seed: pipeline.seed, resolve: (p) => path.resolve(root, p), warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1); // only the truncated wine record
    const text = new Map(result.chunks.map((c) => [c.chunk_id, c.text]));
    const lines = readJsonl('datasets/wine-qa.jsonl');
    const split = new Map((result.questions ?? []).map((q) => [q.question_id, q.split]));
    const sideOf = new Map<string, Set<string>>();
    for (const q of lines) {
      const chunk = text.get(q.gold_chunk_ids[0]) ?? '';
      // The template writes facts as "Label:value." (no space: the answer's tokens are the context's).
      if (q.kind === 'describe') expect(chunk.startsWith(`${q.reference}.`), q.id).toBe(true);
      else expect(chunk, q.id).toContain(`:${q.reference}.`);
      sideOf.set(q.wine, (sideOf.get(q.wine) ?? new Set()).add(split.get(q.id) ?? 'missing'));
    }
    expect([...sideOf.values()].every((s) => s.size === 1)).toBe(true);
    expect(result.report.questions).toMatchObject({ count: 3000, unknown_gold_ids: 0 });
    expect(result.report.questions?.test).toBeGreaterThan(400);
  });
});
