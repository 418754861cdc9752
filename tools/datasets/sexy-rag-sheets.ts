/**
 * Writes seed 002's two Excel sheets for pipelines/sexy-rag.yaml: the questions (column QInitial, as
 * the seed's `qq_GVB_step1_FBQ_*.xlsx` has them, with a reference answer taken from the documents in
 * datasets/sexy-rag/docs/) and the points of view (column POV, as its `list_of_POV.xlsx`). The seed's
 * theme is "G7 vs BRICS"; its POVs are deliberately off-topic ("if your sixth sense says it might be
 * related, it goes in"), and so are some of these.
 *
 *   npx tsx tools/datasets/sexy-rag-sheets.ts [--out datasets/sexy-rag]
 *
 * Hand-written, no network: the sheets hold the same cells on every machine (the XLSX bytes carry
 * zip timestamps, so compare cells, not files).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';

/** Question, and its answer as the documents state it. */
export const QUESTIONS: [string, string][] = [
  ['Which countries are members of the G7?', 'Canada, France, Germany, Italy, Japan, the United Kingdom and the United States'],
  ['Where was the first G7 summit held?', 'at the Chateau de Rambouillet in France, in November 1975'],
  ['When was Russia suspended from the G8?', 'in March 2014, after its annexation of Crimea'],
  ['Who coined the term BRIC?', "Jim O'Neill of Goldman Sachs, in 2001"],
  ['Where was the first BRIC summit held?', 'in Yekaterinburg, Russia, in June 2009'],
  ['Which countries joined BRICS on 1 January 2024?', 'Egypt, Ethiopia, Iran and the United Arab Emirates'],
  ['When did Indonesia join BRICS?', 'in January 2025'],
  ['Where is the New Development Bank headquartered?', 'in Shanghai, China'],
  ['What was the initial authorised capital of the New Development Bank?', '100 billion US dollars'],
  ['How large is the BRICS Contingent Reserve Arrangement?', '100 billion US dollars'],
  ['What share of world GDP at purchasing power parity did the original BRICS members have in 2023?', 'about 32 percent'],
  ['What share of the world population lives in the G7 countries?', 'about 10 percent'],
  ['Where was the 2024 BRICS summit held?', 'in Kazan, Russia'],
  ['Where was the 2023 G7 summit held?', 'in Hiroshima, Japan'],
  ['What share of official foreign exchange reserves was held in US dollars in 2024?', 'about 58 percent'],
  ['What price cap did the G7 put on Russian crude oil?', '60 US dollars per barrel'],
  ['How much investment does the Partnership for Global Infrastructure and Investment aim to mobilise?', '600 billion US dollars by 2027'],
  ['When was the Belt and Road Initiative announced?', 'in 2013'],
  ['Which country is the largest exporter of wheat?', 'Russia'],
  ['Who has led the New Development Bank since 2023?', 'Dilma Rousseff'],
];

/** The seed's POVs are the user's sixth sense: some on the theme, some far from it. */
export const POVS = [
  'Food security and the price of grain',
  'Demographics: young and ageing populations',
  'Semiconductors and the supply of chips',
  'The football World Cup and its host countries',
  'Climate finance for developing countries',
  'Who owns the world\'s gold reserves',
  'Tourism and visa-free travel',
];

async function writeSheet(file: string, sheet: string, columns: string[], rows: string[][]): Promise<void> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'ragrpo tools/datasets/sexy-rag-sheets.ts';
  wb.created = wb.modified = new Date(Date.UTC(2026, 0, 1));
  const ws = wb.addWorksheet(sheet);
  ws.columns = columns.map((header) => ({ header, key: header, width: header === 'POV' ? 48 : 64 }));
  for (const r of rows) ws.addRow(r);
  await wb.xlsx.writeFile(file);
}

export async function writeSexyRagSheets(outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const questions = path.join(outDir, 'questions.xlsx');
  const povs = path.join(outDir, 'povs.xlsx');
  await writeSheet(questions, 'FBQ', ['QInitial', 'answer'], QUESTIONS);
  await writeSheet(povs, 'POV', ['POV'], POVS.map((p) => [p]));
  return [questions, povs];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(import.meta.dirname, '../..');
  const i = process.argv.indexOf('--out');
  const out = path.resolve(root, i > 0 ? process.argv[i + 1] : 'datasets/sexy-rag');
  const files = await writeSexyRagSheets(out);
  console.error(`wrote ${QUESTIONS.length} questions and ${POVS.length} POVs: ${files.map((f) => path.relative(root, f)).join(', ')}`);
}
