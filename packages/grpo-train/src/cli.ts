import { runStageCommand, type GrpoConfig, type StageContext } from '@ragrpo/config';
import { grpoStage } from './stage.ts';

await runStageCommand('grpo-train', (ctx) => grpoStage(ctx as StageContext<GrpoConfig>));
