import cliProgress from 'cli-progress';
import { formatDuration, formatRate } from './format.ts';

export interface ProgressOptions {
  stage: string;          // shown first on every line
  task: string;           // what is being counted, e.g. 'embed chunks'
  total: number;
  unit?: string;          // 'rows', 'chunks', 'tokens'
  /** Where non-TTY progress lines go (CI logs, Nx output). Defaults to stderr. */
  sink?: (line: string) => void;
  /** Force the line mode even on a terminal (tests). */
  plain?: boolean;
  /** Items already done when the work starts (a resumed run): counted in done/total, not in the rate. */
  start?: number;
  /** Line mode: at most one line per this many ms (default 5000; 0 = a line every tick, e.g. one per training step). */
  minIntervalMs?: number;
  now?: () => number;
}

export interface Progress {
  /** `detail` (e.g. '412 tokens/s') is shown after the rate. */
  tick(n?: number, detail?: string): void;
  /** Ends the bar and prints the one-line summary; returns it. */
  done(extra?: string): string;
}

/**
 * A progress display with items done, rate and ETA. On a terminal it is a live cli-progress bar;
 * elsewhere (Nx, CI) it prints a line at most every few seconds so logs stay readable.
 */
export function createProgress(opts: ProgressOptions): Progress {
  const unit = opts.unit ?? 'items';
  const now = opts.now ?? (() => performance.now());
  const sink = opts.sink ?? ((l: string) => process.stderr.write(l + '\n'));
  const started = now();
  const start = opts.start ?? 0;
  let done = start;
  const live = !opts.plain && !opts.sink && process.stderr.isTTY && !process.env.CI;
  const bar = live
    ? new cliProgress.SingleBar({
        format: `[${opts.stage}] ${opts.task} {bar} {value}/{total} ${unit} | {rate} | ETA {eta_formatted}`,
        stream: process.stderr, hideCursor: true, etaBuffer: 50,
      }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(opts.total, start, { rate: '' });
  let lastLine = started;

  const rate = () => (done - start) / Math.max((now() - started) / 1000, 1e-9);
  return {
    tick(n = 1, detail?: string) {
      done += n;
      if (bar) {
        bar.update(done, { rate: formatRate(rate(), unit) + (detail ? `, ${detail}` : '') });
        return;
      }
      const t = now();
      if (t - lastLine >= (opts.minIntervalMs ?? 5000) || done === opts.total) {
        lastLine = t;
        const r = rate();
        const eta = r > 0 ? (opts.total - done) / r : Infinity;
        sink(`[${opts.stage}] ${opts.task}: ${done}/${opts.total} ${unit} (${Math.round((100 * done) / Math.max(opts.total, 1))}%), ${formatRate(r, unit)}${detail ? `, ${detail}` : ''}, ETA ${formatDuration(eta)}`);
      }
    },
    done(extra) {
      bar?.stop();
      const secs = (now() - started) / 1000;
      const line = `[${opts.stage}] ${opts.task}: ${done - start} ${unit} in ${formatDuration(secs)} (${formatRate((done - start) / Math.max(secs, 1e-9), unit)})${extra ? ` ${extra}` : ''}`;
      sink(line);
      return line;
    },
  };
}
