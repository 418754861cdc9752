import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTurns, readPreferences } from '../src/index.ts';
import { tempDir } from './helpers.ts';

describe('preferences (seed 004, LMSYS layout)', () => {
  it('reads one-hot labels and JSON turn lists with null entries from CSV', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'train.csv');
    await writeFile(file, [
      'id,model_a,model_b,prompt,response_a,response_b,winner_model_a,winner_model_b,winner_tie',
      '30192,gpt-4,gpt-3.5,"[""Is it \\""ok\\""?"",""and then, what?""]","[""Yes."",null]","[""No."",""Maybe.""]",1,0,0',
      '53567,llama,claude,"[""Hi""]","[""Hello""]","[""Hey""]",0,0,1',
      '65089,a,b,"[""Q""]","[""x""]","[""y""]",0,1,0',
    ].join('\n') + '\n');
    const prefs = await readPreferences({ file, source: 'train.csv' });
    expect(prefs).toEqual([
      { pair_id: '30192', prompt: ['Is it "ok"?', 'and then, what?'], response_a: ['Yes.', ''], response_b: ['No.', 'Maybe.'], winner: 'model_a', source: 'train.csv' },
      { pair_id: '53567', prompt: ['Hi'], response_a: ['Hello'], response_b: ['Hey'], winner: 'tie', source: 'train.csv' },
      { pair_id: '65089', prompt: ['Q'], response_a: ['x'], response_b: ['y'], winner: 'model_b', source: 'train.csv' },
    ]);
  });

  it('reads a winner column from JSONL, and unlabelled sets as null winners', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'p.jsonl');
    await writeFile(file, '{"prompt":["a"],"response_a":["b"],"response_b":["c"],"winner":"model_b"}\n{"prompt":"plain","response_a":"x","response_b":"y","winner":"tie (bothbad)"}\n');
    const prefs = await readPreferences({ file, source: 'p.jsonl' });
    expect(prefs.map((p) => [p.pair_id, p.prompt, p.winner])).toEqual([['pair-0', ['a'], 'model_b'], ['pair-1', ['plain'], 'tie']]);
    const test = path.join(dir, 'test.csv');
    await writeFile(test, 'id,prompt,response_a,response_b\n1,"[""q""]","[""a""]","[""b""]"\n');
    expect((await readPreferences({ file: test, source: 't' }))[0].winner).toBeNull();
  });

  it('parses Python-style literals and rejects broken lists with the row and field', () => {
    expect(parseTurns("['it\\'s', None, \"two\"]", 'x', 'prompt')).toEqual(["it's", '', 'two']);
    expect(parseTurns('[null]', 'x', 'prompt')).toEqual(['']);
    expect(parseTurns('just text', 'x', 'prompt')).toEqual(['just text']);
    expect(() => parseTurns('["unterminated', 'p.csv:4', 'response_a')).toThrow(/p\.csv:4: field 'response_a' starts like a list of turns but cannot be read/);
  });

  it('rejects a row whose one-hot labels do not name exactly one outcome', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'bad.csv');
    await writeFile(file, 'prompt,response_a,response_b,winner_model_a,winner_model_b,winner_tie\n"[""q""]",a,b,1,1,0\n');
    await expect(readPreferences({ file, source: 'bad.csv' })).rejects.toThrow(`${file}:2: exactly one of winner_model_a, winner_model_b, winner_tie must be 1, found 2`);
  });
});
