// Training stops on a non-finite loss or gradient without applying the update, naming the step and the last
// checkpoint on disk (which stays the last good state).

export class TrainingError extends Error {
  override name = 'TrainingError';
}

export function stoppedAt(step: number, what: string, lastCheckpoint: string | null): TrainingError {
  return new TrainingError(
    `step ${step}: ${what}; training stopped without applying the update` +
      (lastCheckpoint ? `; last checkpoint kept at ${lastCheckpoint}` : '; no checkpoint was saved yet'),
  );
}
