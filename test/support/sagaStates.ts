/** Checks a stream of saga states message by message: a stream that only ends right may still have gone wrong on the way. */
const RANK: Record<string, number> = { PENDING: 0, RUNNING: 1, COMPENSATING: 2, COMPLETED: 3, COMPENSATED: 3, FAILED: 3 };

/** Every state is a saga state, none goes back (RUNNING never after COMPENSATING), only the last is terminal, and it is `final`. */
export function expectSagaStatesInOrder(states: string[], final: string): void {
  expect(states.length).toBeGreaterThan(0);
  expect(states.filter((state) => !(state in RANK))).toEqual([]);
  const backwards = states.flatMap((state, i) => (i > 0 && RANK[state] < RANK[states[i - 1]] ? [`${states[i - 1]} -> ${state} at ${i}`] : []));
  expect(backwards).toEqual([]);
  expect(states.map((state) => RANK[state] === 3)).toEqual(states.map((_, i) => i === states.length - 1));
  expect(states.at(-1)).toBe(final);
}
