// Typed access to the stage declarations (packages/<stage>/stage.json). The logic lives in
// declarations.cjs, shared with the Nx plugin, so the DAG Nx runs and the paths stages open
// come from the same code.
import { createRequire } from 'node:module';

export interface StageRead {
  from: string | string[];
  artifact?: string;
  optional?: boolean;
}

export interface StageWrite {
  /** File name in the stage folder; a trailing '/' marks a folder. */
  file: string;
  /** Contract name (see CONTRACTS in @ragrpo/contracts) for Arrow artifacts. */
  contract?: string;
}

export interface StageDeclaration {
  stage: string;
  /** The pipeline section holding the stage's settings (the stage name unless stage.json says otherwise). */
  section: string;
  description?: string;
  presence: 'always' | 'section';
  package: string;
  file: string;
  uses: string[];
  env: string[];
  files: string[];
  models: string[];
  reads: Record<string, StageRead>;
  writes: Record<string, StageWrite>;
}

export interface ResolvedRead {
  stage: string;
  artifact: string;
  file: string;
}

interface DeclarationsModule {
  loadDeclarations(packagesDir?: string): Map<string, StageDeclaration>;
  stagesOf(decls: Map<string, StageDeclaration>, raw: unknown): string[];
  resolveRead(decls: Map<string, StageDeclaration>, present: string[], read: StageRead, name: string): ResolvedRead | null;
  upstreamOf(decls: Map<string, StageDeclaration>, present: string[], stage: string): { needs: string[]; missing: { name: string; from: string[] }[] };
  downstreamOf(decls: Map<string, StageDeclaration>, present: string[], stage: string): string[];
}

const impl = createRequire(import.meta.url)('./declarations.cjs') as DeclarationsModule;

let cached: Map<string, StageDeclaration> | undefined;

/** Every stage package's declaration, by stage name. */
export function stageDeclarations(): Map<string, StageDeclaration> {
  cached ??= impl.loadDeclarations();
  return cached;
}

export const stagesOf = impl.stagesOf;
export const resolveRead = impl.resolveRead;
export const upstreamOf = impl.upstreamOf;
export const downstreamOf = impl.downstreamOf;

const hashFiles = createRequire(import.meta.url)('./hash-files.cjs') as { hashPaths(paths: string[], root: string): string };

/** sha256 over the files under `paths` (relative path and content), exactly as the Nx plugin hashes a stage's data files and model folders. */
export function digestPaths(paths: string[], root: string): string {
  return hashFiles.hashPaths(paths, root);
}

const digest = createRequire(import.meta.url)('./stage-digest.cjs') as {
  canonicalJson(value: unknown): string;
  stageDigest(raw: Record<string, unknown>, section: string): string;
};

/** JSON with sorted keys: the same settings give the same text (and digest) whatever their order in YAML. */
export const canonicalJson = digest.canonicalJson;
/** The digest of one section of a pipeline file plus its seed, as the Nx plugin keys a stage's cache. */
export const stageDigest = digest.stageDigest;
