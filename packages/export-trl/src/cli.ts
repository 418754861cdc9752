import { runStageCommand, type GrpoConfig, type StageContext } from '@ragrpo/config';
import { exportTrlStage } from './stage.ts';

await runStageCommand('export-trl', (ctx) => exportTrlStage(ctx as StageContext<GrpoConfig>));
