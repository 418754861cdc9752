import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

async function lint(file: string, code: string) {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  it('forbids a stage from importing another stage', async () => {
    const errors = await lint('packages/rank/src/boundary-probe.ts', "import { x } from '@ragrpo/ingest';\nexport const y = x;\n");
    expect(errors.join('\n')).toMatch(/type:stage.*can only depend on libs tagged with "type:shared", "type:engine", "type:stage-library"/);
  }, 60_000);

  it('lets a later stage import the public index of generate (a stage library)', async () => {
    expect(await lint('packages/prompts/src/boundary-probe.ts', "import { splitReasoning } from '@ragrpo/generate';\nexport const y = splitReasoning;\n")).toEqual([]);
  }, 60_000);

  it('lets a stage import the shared packages', async () => {
    expect(await lint('packages/rank/src/boundary-probe.ts', "import { Chunks } from '@ragrpo/contracts';\nexport const y = Chunks;\n")).toEqual([]);
  }, 60_000);

  it('keeps shared packages free of stage imports', async () => {
    const errors = await lint('packages/contracts/src/boundary-probe.ts', "import { x } from '@ragrpo/embed';\nexport const y = x;\n");
    expect(errors).toHaveLength(1);
  }, 60_000);
});
