// The arch presets moved to @ragrpo/model (packages/model/src/scratch/arch-presets.ts); the tiny-model names stay
// here for tools that import them (tools/bench).
export {
  SCRATCH_ARCHS as TINY_ARCHS,
  scratchConfigJson as tinyConfigJson,
  defaultKvHeads,
  configVocabSize,
  type ScratchArch as TinyArch,
  type ScratchSizes as TinySizes,
  type ScratchTokenIds as TinyTokenIds,
} from '@ragrpo/model';
