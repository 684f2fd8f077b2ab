// Errors the CLI turns into a one-line message and an exit code (no stack trace for expected failures).
import { ConfigError } from '@scan-repro/core';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** An expected failure: printed as `scan-repro: <message>` and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Print an error the way the CLI does and return its exit code: one line (the message's first line, which for
 * file system errors names the call and the path), and the stack trace only when `verbose`.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr, verbose = false): number {
  const e = err as Error & { code?: unknown };
  const message = String(e?.message ?? err);
  const line = message.split('\n')[0];
  const expected =
    err instanceof ConfigError || err instanceof CliError || (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code));
  if (verbose) stderr.write(`scan-repro: ${e?.stack ?? message}\n`);
  else
    stderr.write(
      `scan-repro: ${err instanceof ConfigError || err instanceof CliError ? message : line}${expected ? '' : ' (--verbose for the stack trace)'}\n`,
    );
  if (err instanceof ConfigError) return EXIT.usage;
  if (err instanceof CliError) return err.code;
  return EXIT.failure;
}
