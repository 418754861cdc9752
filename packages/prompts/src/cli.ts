import { runStageCommand } from '@ragrpo/config';
import { promptsStage } from './stage.ts';

await runStageCommand('prompts', promptsStage);
