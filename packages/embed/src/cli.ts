import path from 'node:path';
import { runStageCommand } from '@ragrpo/config';
import { Chunks, Povs, Questions, exists, readTable, writeFileAtomic, writeTable } from '@ragrpo/contracts';
import type { Table } from 'apache-arrow';
import { readStopwordFile } from './sparse/analyzer.ts';
import { serializeBm25 } from './sparse/bm25.ts';
import { embedTextSets, type TextSet } from './run-embed.ts';

// readTable has checked the contract's columns, so the column is there.
function column(table: Table, name: string): string[] {
  return (table.getChild(name)?.toArray() ?? []) as string[];
}

await runStageCommand('embed', async (ctx) => {
  const ingest = ctx.stageDir('ingest');
  const chunks = await readTable(path.join(ingest, 'chunks.arrow'), Chunks);
  const sets: TextSet[] = [{ name: 'chunks', role: 'document', ids: column(chunks, 'chunk_id'), texts: column(chunks, 'text') }];
  // Questions and POVs are optional in ingest: embed them when ingest wrote them.
  const questionsFile = path.join(ingest, 'questions.arrow');
  if (await exists(questionsFile)) {
    const q = await readTable(questionsFile, Questions);
    sets.push({ name: 'questions', role: 'query', ids: column(q, 'question_id'), texts: column(q, 'question') });
  }
  const povsFile = path.join(ingest, 'povs.arrow');
  if (await exists(povsFile)) {
    const p = await readTable(povsFile, Povs);
    sets.push({ name: 'povs', role: 'query', ids: column(p, 'pov_id'), texts: column(p, 'text') });
  }
  const { embed } = ctx.pipeline.config;
  const stopwords = embed.sparse?.stopwords ? readStopwordFile(ctx.resolve(embed.sparse.stopwords)) : undefined;
  const out = await embedTextSets(sets, embed, { root: ctx.root, stopwords });
  for (const t of out.tables) await writeTable(path.join(ctx.outDir, t.file), t.contract, t.table);
  if (out.bm25) await writeFileAtomic(path.join(ctx.outDir, 'bm25.json'), serializeBm25(out.bm25));
  return out.summary;
});
