/** Everything this package refuses or fails on: one line naming the file and what is wrong. */
export class GgufError extends Error {
  override name = 'GgufError';
}
