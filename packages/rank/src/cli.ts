import { runStageCommand } from '@ragrpo/config';
import { rankStage } from './stage.ts';

await runStageCommand('rank', rankStage);
