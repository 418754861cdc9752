import { runStageCommand } from '@ragrpo/config';
import { evaluateStage } from './stage.ts';

await runStageCommand('evaluate', evaluateStage);
