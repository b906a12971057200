/** Input the CLI refuses: a clear line on stderr and exit code 2, the convention for bad usage. */
export class UsageError extends Error {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
