import { describe, expect, it } from 'vitest';
import { loadPipelineText } from '../src/index.ts';

const base = `seed: 7
ingest:
  documents:
    - kind: csv
      path: data/wine.csv
      template: "{title}: {description}"
  splitter:
    chunk_size: 500
    chunk_overlap: 50
embed:
  sparse:
    k1: 1.2
index:
  top_k: 5
rank:
  top_n: 3
`;

describe('pipeline file', () => {
  it('loads a valid file with defaults filled in', () => {
    const p = loadPipelineText(base, 'pipelines/wine.yaml');
    expect(p.name).toBe('wine');
    expect(p.config.seed).toBe(7);
    expect(p.config.ingest.documents[0]).toMatchObject({ kind: 'csv', on_bad_row: 'skip' });
    expect(p.config.embed.sparse).toMatchObject({ k1: 1.2, b: 0.75, language: 'english' });
    expect(p.config.index).toMatchObject({ top_k: 5, search: 'sparse', rrf_k: 60 });
  });

  it('points at the line and key of a typo and suggests the right key', () => {
    const bad = base.replace('    chunk_overlap: 50', '    chunk_overlapp: 50');
    expect(() => loadPipelineText(bad, 'p.yaml')).toThrow("p.yaml:9:5: unknown key 'ingest.splitter.chunk_overlapp' (did you mean 'chunk_overlap'?)");
  });

  it('names an unknown top-level section', () => {
    expect(() => loadPipelineText(base + 'rankk:\n  top_n: 2\n', 'p.yaml')).toThrow(/p.yaml:17:1: unknown key 'rankk' \(did you mean 'rank'\?\)/);
  });

  it('rejects an overlap not smaller than the chunk size at the overlap line', () => {
    const bad = base.replace('chunk_overlap: 50', 'chunk_overlap: 500');
    expect(() => loadPipelineText(bad, 'p.yaml')).toThrow('p.yaml:9:20: ingest.splitter.chunk_overlap: must be smaller than chunk_size');
  });

  it('reports YAML syntax errors with a position', () => {
    expect(() => loadPipelineText('seed: 1\ningest: [\n', 'p.yaml')).toThrow(/^p.yaml:\d+:\d+: YAML syntax error/);
  });

  it('reports a wrong type inside a document source', () => {
    const bad = base.replace('kind: csv', 'kind: docx');
    expect(() => loadPipelineText(bad, 'p.yaml')).toThrow(/p.yaml:4:\d+: ingest.documents\[0\].kind/);
  });
});
