import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

export interface SplitterOptions {
  chunkSize: number;
  chunkOverlap: number;
  /** LangChain's default: paragraphs, lines, words, characters. */
  separators?: string[];
}

export interface TextPiece {
  text: string;
  /** Character offset of the piece in the document (LangChain's add_start_index). */
  start: number;
}

/**
 * Recursive character splitting with LangChain's own splitter (length = characters, separators
 * kept at the start of the next piece, pieces trimmed), plus the start index the JS port does
 * not compute: Python LangChain's add_start_index rule, a search for the piece starting at
 * (previous start + previous length - overlap), which finds the right occurrence of repeated text.
 */
export async function splitText(text: string, opts: SplitterOptions): Promise<TextPiece[]> {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: opts.chunkSize,
    chunkOverlap: opts.chunkOverlap,
    ...(opts.separators ? { separators: opts.separators } : {}),
  });
  // LangChain warns on console for every over-long piece (a word longer than chunk_size); the
  // piece is kept as LangChain keeps it, so the warning adds nothing but noise in stage logs.
  const warn = console.warn;
  console.warn = () => undefined;
  let pieces: string[];
  try {
    pieces = await splitter.splitText(text);
  } finally {
    console.warn = warn;
  }
  const out: TextPiece[] = [];
  let index = 0;
  let prevLen = 0;
  for (const piece of pieces) {
    const offset = index + prevLen - opts.chunkOverlap;
    let at = text.indexOf(piece, Math.max(0, offset));
    if (at < 0) at = text.indexOf(piece); // cannot happen for trimmed joins of contiguous splits; kept as a guard
    if (at < 0) throw new Error(`splitter produced a piece that is not in the document (separators must be literal strings): '${piece.slice(0, 40)}...'`);
    out.push({ text: piece, start: at });
    index = at;
    prevLen = piece.length;
  }
  return out;
}
