/** Time for sagas, injected so tests can run it forward instead of sleeping. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): { clear(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return { clear: () => clearTimeout(timer) };
  },
};
