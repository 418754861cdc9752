import { runStageCommand } from '@ragrpo/config';
import { policyStage } from './stage.ts';

await runStageCommand('policy', policyStage);
