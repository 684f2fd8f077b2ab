// Errors the CLI turns into a one-line message and an exit code (no stack trace for expected failures).
import { ConfigError } from '@scan-repro/core';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** An expected failure: printed as `scan-repro: <message>` and exits with `code`. */
export class CliError extends Error {
  constructor(message: string, readonly code: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
  }
}

/** Print an error the way the CLI does and return its exit code. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (err instanceof ConfigError) {
    stderr.write(`scan-repro: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof CliError) {
    stderr.write(`scan-repro: ${err.message}\n`);
    return err.code;
  }
  const e = err as Error;
  stderr.write(`scan-repro: ${e?.stack ?? String(err)}\n`);
  return EXIT.failure;
}
