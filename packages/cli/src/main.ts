// Entry point: `npm run scan-repro -- <command> ...` or the `scan-repro` bin (bin/scan-repro.js).
import { createProgram } from './program';
import { reportError } from './errors';

try {
  const program = await createProgram();
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
