export type Winner = 'model_a' | 'model_b' | 'tie';
export const CLASSES: readonly Winner[] = ['model_a', 'model_b', 'tie'];

/** [P(a wins), P(b wins), P(tie)], the submission's winner_model_a, winner_model_b, winner_tie. */
export type Prediction = [number, number, number];

/** Seed 004's constants: what a tie, a decided pair and a failed score predict. */
export const TIE_PREDICTION: Prediction = [0.00005, 0.00005, 0.9999];
export const ERROR_PREDICTION: Prediction = [0.33334, 0.33333, 0.33333];
const DECIDED_SHIFT = 0.0001;
const DECIDED_TIE = 0.0002;

/**
 * Seed 004's rule: |score_a - score_b| < tieThreshold predicts a tie ([0.00005, 0.00005, 0.9999]);
 * otherwise softmax(score_a, score_b) less 0.0001 each, and 0.0002 for the tie (the row sums to 1).
 * A missing score (the scorer failed) predicts [0.33334, 0.33333, 0.33333], as the seed's except
 * branch does. The softmax is computed from the larger score down (exp never overflows), and a
 * shifted probability below 0 (a score gap above ~9.2) is held at 0 rather than going negative.
 */
export function predictPreference(scoreA: number | null, scoreB: number | null, tieThreshold: number): Prediction {
  if (scoreA === null || scoreB === null || !Number.isFinite(scoreA) || !Number.isFinite(scoreB)) return [...ERROR_PREDICTION];
  if (Math.abs(scoreA - scoreB) < tieThreshold) return [...TIE_PREDICTION];
  const m = Math.max(scoreA, scoreB);
  const ea = Math.exp(scoreA - m);
  const eb = Math.exp(scoreB - m);
  const sum = ea + eb;
  return [Math.max(ea / sum - DECIDED_SHIFT, 0), Math.max(eb / sum - DECIDED_SHIFT, 0), DECIDED_TIE];
}

/** The predicted class: the largest probability (the first on equal ones, as numpy's argmax). */
export function predictedClass(p: Prediction): Winner {
  let best = 0;
  for (let k = 1; k < 3; k++) if (p[k] > p[best]) best = k;
  return CLASSES[best];
}

export interface PreferenceMetrics {
  labelled: number;
  log_loss: number;
  accuracy: number;
  /** How often each class was predicted and labelled, over the labelled pairs. */
  predicted: Record<Winner, number>;
  labels: Record<Winner, number>;
}

/**
 * Probabilities are clipped to [eps, 1 - eps] and each row renormalised, as sklearn.metrics.log_loss
 * does (eps='auto': the float64 machine epsilon, since sklearn 1.2's default).
 */
export const LOG_LOSS_EPS = Number.EPSILON;

/**
 * Multi-class log loss -mean log p(label) and accuracy (predicted class == label) over the pairs
 * that have a label; null when none has one.
 */
export function preferenceMetrics(predictions: Prediction[], labels: (Winner | null)[]): PreferenceMetrics | null {
  let n = 0;
  let loss = 0;
  let correct = 0;
  const predicted: Record<Winner, number> = { model_a: 0, model_b: 0, tie: 0 };
  const seen: Record<Winner, number> = { model_a: 0, model_b: 0, tie: 0 };
  predictions.forEach((p, i) => {
    const label = labels[i];
    if (!label) return;
    n++;
    const clipped = p.map((x) => Math.min(Math.max(x, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
    const sum = clipped[0] + clipped[1] + clipped[2];
    loss -= Math.log(clipped[CLASSES.indexOf(label)] / sum);
    const c = predictedClass(p);
    predicted[c]++;
    seen[label]++;
    if (c === label) correct++;
  });
  if (n === 0) return null;
  return { labelled: n, log_loss: loss / n, accuracy: correct / n, predicted, labels: seen };
}
