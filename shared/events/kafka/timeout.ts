/** A bound on how long an operation may take (a Kafka call, a cache Redis read), told apart from the operation's own failures. */

/** A wait that ran out. */
export class TimedOut extends Error {}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimedOut(message)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
