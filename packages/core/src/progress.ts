// Progress reporting: a live cli-progress bar on an interactive terminal; on a pipe or in CI (CI=true) a plain
// line every `intervalMs` (default 10 s, env SCAN_PROGRESS_INTERVAL_S) so that logs stay readable.
import cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number, info?: Record<string, number | string>): void;
  stop(): void;
}
export interface ProgressOptions {
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force the plain-line mode (true) or the bar (false); default: bar only on a TTY outside CI. */
  plain?: boolean;
  intervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

function formatInfo(info: Record<string, number | string>): string {
  return Object.entries(info)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
    .join(' ');
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

export function createProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const isTty = Boolean((stream as NodeJS.WriteStream).isTTY);
  const ci = /^(1|true)$/i.test(process.env.CI ?? '');
  const plain = opts.plain ?? (!isTty || ci);
  const now = opts.now ?? Date.now;
  const start = now();
  let done = 0;
  let info: Record<string, number | string> = {};

  if (!plain) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% | {rate} it/s | eta {eta_formatted} {info}`,
        stream: stream as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '', rate: '0' });
    return {
      tick(n = 1, i) {
        done += n;
        if (i) info = i;
        const rate = done / Math.max((now() - start) / 1000, 1e-9);
        bar.update(done, { info: formatInfo(info), rate: rate.toPrecision(3) });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const envInterval = Number(process.env.SCAN_PROGRESS_INTERVAL_S);
  const intervalMs = opts.intervalMs ?? (envInterval > 0 ? envInterval * 1000 : 10_000);
  let lastPrint = start;
  const line = () => {
    const elapsed = (now() - start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const pct = total > 0 ? ((100 * done) / total).toFixed(0) : '?';
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    stream.write(
      `${label} ${done}/${total} (${pct}%) ${rate.toPrecision(3)} it/s elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}${Object.keys(info).length ? ' ' + formatInfo(info) : ''}\n`,
    );
  };
  let stopped = false;
  return {
    tick(n = 1, i) {
      done += n;
      if (i) info = i;
      if (now() - lastPrint >= intervalMs) {
        lastPrint = now();
        line();
      }
    },
    stop() {
      if (!stopped) {
        stopped = true;
        line();
      }
    },
  };
}
