import { runStageCommand } from '@ragrpo/config';
import type { Table } from 'apache-arrow';
import { readStopwordFile } from './sparse/analyzer.ts';
import { serializeBm25 } from './sparse/bm25.ts';
import { embedTextSets, type TextSet } from './run-embed.ts';

// readTable has checked the contract's columns, so the column is there.
function column(table: Table, name: string): string[] {
  return (table.getChild(name)?.toArray() ?? []) as string[];
}

await runStageCommand('embed', async (ctx) => {
  const chunks = await ctx.readInput('chunks');
  const sets: TextSet[] = [{ name: 'chunks', role: 'document', ids: column(chunks, 'chunk_id'), texts: column(chunks, 'text') }];
  // Questions and POVs are optional in ingest: embed them when ingest wrote them.
  const questions = await ctx.readOptionalInput('questions');
  if (questions) sets.push({ name: 'questions', role: 'query', ids: column(questions, 'question_id'), texts: column(questions, 'question') });
  const povs = await ctx.readOptionalInput('povs');
  if (povs) sets.push({ name: 'povs', role: 'query', ids: column(povs, 'pov_id'), texts: column(povs, 'text') });
  const embed = ctx.settings;
  const stopwords = embed.sparse?.stopwords ? readStopwordFile(ctx.resolve(embed.sparse.stopwords)) : undefined;
  const out = await embedTextSets(sets, embed, { root: ctx.root, stopwords });
  for (const t of out.tables) await ctx.writeOutput(t.artifact, t.table);
  if (out.bm25) await ctx.writeOutput('bm25', serializeBm25(out.bm25));
  return out.summary;
});
