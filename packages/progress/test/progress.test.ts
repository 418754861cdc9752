import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration } from '../src/index.ts';

describe('progress', () => {
  it('prints items done, rate and ETA, and a one-line summary', () => {
    const lines: string[] = [];
    let t = 0;
    const p = createProgress({ stage: 'embed', task: 'chunks', total: 100, unit: 'chunks', sink: (l) => lines.push(l), now: () => t });
    t = 6000; p.tick(30);           // 30 chunks in 6 s: 5/s, 70 left: 14 s
    t = 7000; p.tick(10);           // within 5 s of the last line: silent
    t = 20000; p.tick(60);          // the last item always prints
    const summary = p.done('(3 files)');
    expect(lines[0]).toBe('[embed] chunks: 30/100 chunks (30%), 5.00 chunks/s, ETA 14s');
    expect(lines).toHaveLength(3);
    expect(summary).toBe('[embed] chunks: 100 chunks in 20s (5.00 chunks/s) (3 files)');
  });

  it('formats durations the way a person reads them', () => {
    expect([formatDuration(3.25), formatDuration(75), formatDuration(3725)]).toEqual(['3.3s', '1m15s', '1h02m']);
  });
});
