// @ragrpo/export-trl: the pipeline handed to TRL's GRPOTrainer (dataset, GRPOConfig, train_trl.py).
export { trlConfig, FIXED_ARGS, type OptionMapping, type TrlConfig } from './grpo-config.ts';
export { trlDataset, recoverMessages, jsonLines, type TrlDataset, type TrlRow, type PromptRow, type ChatTokenizer } from './dataset.ts';
export { exportTrlStage, DEFAULT_REWARD_PORT, EXPORT_FORMAT, EXPORT_VERSION, TRAIN_SCRIPT } from './stage.ts';
