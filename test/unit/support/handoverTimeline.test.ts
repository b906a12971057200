/** The handover test's judge (test/support/handoverTimeline.ts) catches what it claims to. */
import { checkTimeline } from '../../support/handoverTimeline';

const last = (entries: Array<[string, number]>) => new Map(entries);

describe('checkTimeline', () => {
  it('accepts keys handed from member to member in order, every message to its end', () => {
    const lines = ['start a k 0', 'start a j 0', 'end a k 0', 'end a j 0', 'start b k 1', 'end b k 1'];
    expect(checkTimeline(lines, last([['k', 1], ['j', 0]]))).toEqual({ breaches: [], repeats: 0, handled: 3 });
  });

  it('catches a key on two members at once', () => {
    const lines = ['start a k 0', 'start b k 1', 'end a k 0', 'end b k 1'];
    expect(checkTimeline(lines, last([['k', 1]])).breaches).toEqual([
      "#1 b started k/1 while a ran k/0",
      '#2 a ended k/0, which it was not running',
      '#3 b ended k/1, which it was not running',
    ]);
  });

  it('catches a message skipped, a key out of order, and a message never handled', () => {
    const lines = ['start a k 1', 'end a k 1', 'start a k 0', 'end a k 0'];
    expect(checkTimeline(lines, last([['k', 2]])).breaches).toEqual(['#0 a started k/1 after nothing', "#2 a started k/0 after a's 1", 'k: never handled 2']);
  });

  it('allows the killed member’s started suffix to run again after it died, and nothing more', () => {
    const killed = ['start a k 0', 'end a k 0', 'start a k 1', 'end a k 1', 'start a k 2', 'killed a', 'start b k 1', 'end b k 1', 'start b k 2', 'end b k 2'];
    expect(checkTimeline(killed, last([['k', 2]]))).toEqual({ breaches: [], repeats: 2, handled: 3 });
    const graceful = ['start a k 0', 'end a k 0', 'start a k 1', 'end a k 1', 'start b k 1', 'end b k 1'];
    expect(checkTimeline(graceful, last([['k', 1]])).breaches).toEqual(["#4 b started k/1 after a's 1"]);
    const beforeDeath = ['start a k 0', 'end a k 0', 'start b k 0', 'end b k 0', 'killed a'];
    expect(checkTimeline(beforeDeath, last([['k', 0]])).breaches).toEqual(["#2 b started k/0 after a's 0"]);
  });
});
