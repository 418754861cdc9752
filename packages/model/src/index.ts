// @ragrpo/model: Llama-family decoders on the @ragrpo/graph engine: loading, LoRA, KV-cache sampling,
// per-token log-probs, SFT and GRPO training with checkpoints.

// model folders (config, weights, tokenizer)
export { loadModel, type LoadedModel } from './loading/load-model.ts';
export { readModelFolder, readGenerationDefaults, findWeightFiles, type ModelFolder, type GenerationDefaults } from './loading/model-folder.ts';
export {
  parseModelConfig,
  readModelConfig,
  validateWeights,
  expectedTensorShapes,
  assertSequenceLength,
  ModelConfigError,
  SUPPORTED_ARCHITECTURES,
  type ModelConfig,
  type Architecture,
  type RopeScaling,
} from './loading/model-config.ts';
export { loadTokenizer, TokenizerError, type Tokenizer, type ChatMessage } from './loading/tokenizer.ts';
export {
  readSafetensors,
  writeSafetensors,
  readShardedSafetensors,
  writeShardedSafetensors,
  bf16BitsToNumber,
  numberToBf16Bits,
  SafetensorsError,
  type SafeTensor,
  type SafetensorsDType,
  type WritableTensor,
} from './loading/safetensors.ts';
export type { WeightTensor, WeightMap } from './loading/weights.ts';

// graphs
export { buildForward, buildDecodeStep, modelBytes, type ForwardOptions, type GraphModelOptions } from './graphs/graphs.ts';
export { buildDecoderGraph, MASKED, type DecoderGraphOptions, type DecoderGraph } from './graphs/llama-graph.ts';
export { ropeInverseFrequencies } from './graphs/rope.ts';
export { tokenLogprobs } from './graphs/token-logprobs.ts';
export { sftLossGraph } from './training/sft-loss.ts';
export {
  grpoLossGraph,
  aggregationCoefficients,
  lossTypeParts,
  LOSS_AGGREGATIONS,
  LOSS_TYPES,
  type LossAggregation,
  type LossType,
  type ImportanceSamplingLevel,
  type GrpoLossOptions,
} from './training/grpo-loss.ts';
export { groupAdvantages } from './training/advantages.ts';
export { packBatch, bucketLength, type SequencePair, type PackedBatch } from './graphs/batch-layout.ts';

// LoRA
export { createLora, saveLora, loadLora, mergeLora, type LoraAdapter } from './lora/lora.ts';
export { LINEAR_MODULES, resolveLoraConfig, type LoraConfig, type LoraConfigInput, type LinearModule } from './lora/lora-config.ts';

// running: policy, sampling, training
export { Policy, type PolicyOptions, type ModelWeights, type TrainableMode, type Logits, type PrefillResult } from './policy/policy.ts';
export { sample, type SamplingOptions, type Completion, type FinishReason } from './sampling/sample.ts';
export {
  Trainer,
  TrainingError,
  type TrainerOptions,
  type GrpoOptions,
  type GrpoStepOptions,
  type GrpoGradients,
  type SftExample,
  type GrpoExample,
  type StepMetrics,
} from './training/trainer.ts';
export { trlMetrics } from './training/trl-metrics.ts';
export { latestCheckpoint } from './training/checkpoint.ts';
export { exportModel, currentWeights } from './loading/export-model.ts';
export { Prng } from './prng.ts';

// scratch models: byte-level BPE training and seeded random Llama-family folders (the `policy: scratch` stage, tools/tiny-llm)
export {
  trainByteLevelBpe,
  tokenizerJson,
  bytesToUnicode,
  GPT2_SPLIT,
  CHATML_ADDED_TOKENS,
  type BpeTokenizerSpec,
  type TrainedBpe,
  type TrainBpeOptions,
  type SpecialToken,
} from './scratch/bpe-trainer.ts';
export { buildScratchTokenizer, CHATML_TEMPLATE, type ScratchTokenizer, type ScratchTokenizerOptions } from './scratch/tokenizer-files.ts';
export {
  SCRATCH_ARCHS,
  scratchConfigJson,
  defaultKvHeads,
  configVocabSize,
  type ScratchArch,
  type ScratchSizes,
  type ScratchTokenIds,
} from './scratch/arch-presets.ts';
export { initWeights, type WeightInit } from './scratch/init-weights.ts';
export {
  buildScratchModel,
  buildScratchModelSync,
  writeFolderAtomically,
  type ScratchModelOptions,
  type ScratchModelResult,
  type ScratchDType,
} from './scratch/build-scratch-model.ts';
