// @ragrpo/evaluate: the test split before and after training, with every reward, bootstrap
// intervals and the sign test; retrieval metrics; seed 004's pairwise preference; report.html.
export { bootstrapInterval, bootstrapMeans, exactBootstrapMeans, isExactBootstrap, quantile, mean, type Interval } from './stats/bootstrap.ts';
export { signTest, binomialCdfHalf, type SignTest } from './stats/sign-test.ts';
export { compareReward, meanOrNull, formatInterval, type RewardComparison, type Difference, type CompareOptions } from './stats/compare-rewards.ts';
export { cutOff, sideText, type PairTurns, type CutPair, type SideText } from './preference/cut-off.ts';
export {
  predictPreference, predictedClass, preferenceMetrics, TIE_PREDICTION, ERROR_PREDICTION, LOG_LOSS_EPS, CLASSES,
  type Prediction, type PreferenceMetrics, type Winner,
} from './preference/predict.ts';
export { createScorer, scorePairs, type ScorerConfig, type SideScorer, type PairSides } from './preference/scorer.ts';
export { scorePairsInReplicas, type ReplicaResult } from './preference/replicas.ts';
export { scorePreferences, type PreferenceRow, type PreferenceResult } from './preference/score-preferences.ts';
export { questionRetrieval, summarizeRetrieval, retrievalTable, type QuestionRetrieval, type RetrievalSummary, type OrderMetrics } from './retrieval/retrieval-metrics.ts';
export { evaluationRewards, scorerSpec, mergedOptions, type RewardSet } from './answers/reward-set.ts';
export { evaluationJudge, openJudge, judgeSource, type JudgeSetup } from './answers/judge.ts';
export { evaluationFunctions, scoreAnswers } from './answers/score-answers.ts';
export { answerQuestions, type EvalPrompt, type Answer } from './answers/answer-questions.ts';
export { policyRef, checkComparable, type PolicyRef } from './answers/policies.ts';
export { renderReport, type ReportData, type QuestionRow, type Chart } from './report/html.ts';
export { renderSvg, lineChartSpec, intervalChartSpec, differenceChartSpec, barChartSpec } from './report/charts.ts';
export { toCsv, csvField } from './results/csv.ts';
export { resultsCsv, resultsWorkbook } from './results/results-table.ts';
export { evaluateStage, samplingOf } from './stage.ts';
