// Human-readable log lines on stderr (stdout stays clean for command output such as `scan-repro config`).
// SCAN_LOG_LEVEL=debug shows debug lines; =warn hides info lines.
import { format } from 'node:util';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

function threshold(): number {
  const name = (process.env.SCAN_LOG_LEVEL ?? 'info').toLowerCase() as Level;
  return LEVELS[name] ?? LEVELS.info;
}

function write(level: Level, args: unknown[]): void {
  if (LEVELS[level] < threshold()) return;
  const time = new Date().toISOString().slice(11, 19);
  const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
  process.stderr.write(`[${time}] ${tag}${format(...args)}\n`);
}

export const log = {
  debug: (...a: unknown[]) => write('debug', a),
  info: (...a: unknown[]) => write('info', a),
  warn: (...a: unknown[]) => write('warn', a),
  error: (...a: unknown[]) => write('error', a),
};
