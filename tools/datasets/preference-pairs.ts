/**
 * Generates datasets/preference-pairs.jsonl: a small pairwise preference set in seed 004's shape
 * (LMSYS Chatbot Arena: prompt, response_a, response_b as lists of turns, and the winner) about
 * wines, for evaluate's preference scoring. Each pair asks about one wine; the specific answer
 * (it names the points and the price) wins over the vague one, two vague answers tie. Some pairs
 * have two or three turns, and a few carry long turns so that the 7,200-character budget cuts them.
 *
 *   npx tsx tools/datasets/preference-pairs.ts [--count 24] [--seed 0] [--out datasets/preference-pairs.jsonl]
 *
 * Hand-written facts, no network and no CSV: the set is the same on every machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@ragrpo/config';

export interface PreferencePair {
  id: string;
  prompt: string[];
  response_a: string[];
  response_b: string[];
  winner: 'model_a' | 'model_b' | 'tie';
}

const WINES = [
  { name: 'Nicora 2014 Euphoric Grenache', region: 'Adelaida District', points: 92, price: 48, note: 'candied black cherry and thyme' },
  { name: 'Tenute Silvio Nardi 2007 Poggio Doria', region: 'Brunello di Montalcino', points: 94, price: 75, note: 'black plum, leather and spice' },
  { name: 'Rainstorm 2013 Pinot Gris', region: 'Willamette Valley', points: 87, price: 14, note: 'tart lime and pineapple' },
  { name: 'Quinta dos Avidagos 2011 Avidagos Red', region: 'Douro', points: 87, price: 15, note: 'ripe fruit and firm tannins' },
  { name: 'Sweet Cheeks 2012 Vintner\'s Reserve Wild Child Block Pinot Noir', region: 'Willamette Valley', points: 87, price: 65, note: 'pine and cedar with red fruit' },
  { name: 'Kirkland Signature 2011 Mountain Cuvee Cabernet Sauvignon', region: 'Napa Valley', points: 87, price: 19, note: 'soft, supple plum and oak' },
  { name: 'Leon Beyer 2012 Gewurztraminer', region: 'Alsace', points: 88, price: 27, note: 'rose petal and lychee' },
  { name: 'Heinz Eifel 2013 Shine Gewurztraminer', region: 'Rheinhessen', points: 87, price: 12, note: 'honeyed and floral' },
];

const VAGUE = [
  'It is a nice wine that many people enjoy.',
  'This one is fine, I think you would like it.',
  'Hard to say, wine is a matter of taste.',
  'It is a wine from a well-known region.',
];

const FOLLOW_UPS = ['And what does it cost?', 'Would it suit a summer barbecue?', 'How does it compare with others from the region?'];

function specific(w: (typeof WINES)[number], turn: number): string {
  if (turn === 0) return `${w.name} (${w.region}) scored ${w.points} points; reviewers note ${w.note}.`;
  if (turn === 1) return `It sells for about $${w.price}, which is ${w.price <= 20 ? 'good value' : 'a special-occasion price'} for ${w.points} points.`;
  return `Among ${w.region} wines its ${w.points} points put it ${w.points >= 90 ? 'near the top' : 'in the solid middle'}, at $${w.price}.`;
}

export function preferencePairs(count: number, seed: number): PreferencePair[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const out: PreferencePair[] = [];
  for (let i = 0; i < count; i++) {
    const w = WINES[i % WINES.length];
    const turns = i % 6 === 5 ? 3 : i % 3 === 2 ? 2 : 1;
    const prompt = [`What can you tell me about ${w.name}?`, ...FOLLOW_UPS.slice(0, turns - 1)];
    // Every eighth pair is long: a single turn over the budget on its own, or a later turn that does not fit.
    const long = i % 8 === 6;
    const padded = (t: number) => long && (turns === 1 || t === turns - 1);
    const good = prompt.map((_, t) => specific(w, t) + (padded(t) ? ` ${w.note}.`.repeat(340) : ''));
    const vague = prompt.map(() => pick(VAGUE));
    const kind = i % 4 === 3 ? 'tie' : rand() < 0.5 ? 'model_a' : 'model_b';
    const other = prompt.map(() => pick(VAGUE));
    out.push({
      id: `pref-${String(i + 1).padStart(3, '0')}`,
      prompt,
      response_a: kind === 'model_a' ? good : kind === 'model_b' ? vague : other,
      response_b: kind === 'model_b' ? good : kind === 'model_a' ? vague : vague,
      winner: kind,
    });
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = path.resolve(root, arg('out', 'datasets/preference-pairs.jsonl'));
  const pairs = preferencePairs(Number(arg('count', '24')), Number(arg('seed', '0')));
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  process.stderr.write(`wrote ${pairs.length} preference pairs to ${path.relative(root, out)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
