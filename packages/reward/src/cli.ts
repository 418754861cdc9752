import { runStageCommand } from '@ragrpo/config';
import { rewardStage } from './stage/stage.ts';

await runStageCommand('reward', rewardStage);
