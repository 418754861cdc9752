import { runStageCommand } from '@ragrpo/config';
import { generateStage } from './stage.ts';

await runStageCommand('generate', generateStage);
