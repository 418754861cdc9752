import path from 'node:path';
import { readUtf8File } from './utf8-file.ts';
import { listFiles } from './list-files.ts';
import { documentChunkId } from './ids.ts';
import { splitText, type SplitterOptions } from './split-text.ts';
import type { ChunkRow, ReadHooks } from './types.ts';

export interface TextDocumentOptions {
  /** A folder (every file with one of the extensions below it) or one file, resolved. */
  path: string;
  /** The path as written in the pipeline file. */
  source: string;
  extensions?: string[];
  splitter: SplitterOptions;
}

/** TXT/Markdown files split into chunks (seed 002: DirectoryLoader + RecursiveCharacterTextSplitter). */
export async function readTextDocuments(opts: TextDocumentOptions, hooks: ReadHooks = {}): Promise<{ chunks: ChunkRow[]; files: number }> {
  const files = await listFiles(opts.path, opts.extensions ?? ['.txt', '.md', '.markdown'], 'text documents');
  const progress = hooks.progress?.(`text files ${opts.source}`, files.length, 'files');
  const chunks: ChunkRow[] = [];
  for (const file of files) {
    // Windows line ends would make '\n\n' paragraph separators miss; offsets are into the normalised text.
    const text = (await readUtf8File(file, 'text document')).replace(/\r\n?/g, '\n');
    const rel = files.length === 1 && file === opts.path ? path.basename(file) : path.relative(opts.path, file).split(path.sep).join('/');
    const docId = `${opts.source}#${rel}`;
    const pieces = await splitText(text, opts.splitter);
    pieces.forEach((p, i) => chunks.push({
      chunk_id: documentChunkId(opts.source, rel, i), doc_id: docId, source: opts.source,
      text: p.text, start_index: p.start, chunk_index: i, page: null,
      metadata: JSON.stringify({ file: rel, chars: text.length }),
    }));
    progress?.tick();
  }
  progress?.done();
  return { chunks, files: files.length };
}
