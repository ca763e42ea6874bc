/** A command-line mistake: printed as "<prog>: <message>" with a hint, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_USAGE = 2;

export function reportUsageError(prog: string, err: UsageError): number {
  process.stderr.write(`${prog}: ${err.message}\nTry '${prog} --help' for more information.\n`);
  return EXIT_USAGE;
}
