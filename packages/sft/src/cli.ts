import { runStageCommand } from '@ragrpo/config';
import { sftStage } from './stage.ts';

await runStageCommand('sft', sftStage);
