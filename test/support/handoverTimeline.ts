/**
 * Reads the handover test's timeline (test/support/keyedMember.ts): `start`/`end` lines of every
 * member's handlers and `killed <member>` lines the test adds once a SIGKILLed member is gone,
 * in one order. Returns every breach of what a keyed, at-least-once consumer group allows:
 * - no key has handlers on two members at once (a killed member's unfinished handler ends when it dies);
 * - each key's messages start in order, 0, 1, 2, …, except that after a member is SIGKILLed its
 *   successor may start again from a message the killed member had started (its uncommitted
 *   suffix) and go on in order from there; nothing is repeated after a graceful handover, nothing skipped;
 * - every message of every key is handled to its end.
 */
export interface TimelineReport {
  breaches: string[];
  /** Messages started again after a SIGKILL (allowed, counted). */
  repeats: number;
  handled: number;
}

export function checkTimeline(lines: string[], lastSeq: Map<string, number>): TimelineReport {
  const breaches: string[] = [];
  const killed = new Set<string>();
  const open = new Map<string, { member: string; seq: number }>();
  const previous = new Map<string, { member: string; seq: number }>();
  /** Per key, which member last started each seq. */
  const startedBy = new Map<string, Map<number, string>>();
  const ended = new Map<string, Set<number>>();
  let repeats = 0;
  for (const [at, line] of lines.entries()) {
    const [kind, member, key, seqText] = line.split(' ');
    if (kind === 'killed') {
      killed.add(member);
      continue;
    }
    const seq = Number(seqText);
    if (kind === 'start') {
      const running = open.get(key);
      if (running && !killed.has(running.member)) breaches.push(`#${at} ${member} started ${key}/${seq} while ${running.member} ran ${key}/${running.seq}`);
      const before = previous.get(key);
      const expected = before ? before.seq + 1 : 0;
      if (seq !== expected) {
        const by = startedBy.get(key);
        const redo = before !== undefined && seq <= before.seq && killed.has(before.member) && range(seq, before.seq).every((s) => by?.get(s) === before.member);
        if (redo) repeats += before.seq - seq + 1;
        else breaches.push(`#${at} ${member} started ${key}/${seq} after ${before ? `${before.member}'s ${before.seq}` : 'nothing'}`);
      }
      open.set(key, { member, seq });
      previous.set(key, { member, seq });
      if (!startedBy.has(key)) startedBy.set(key, new Map());
      startedBy.get(key)!.set(seq, member);
    } else {
      const running = open.get(key);
      if (!running || running.member !== member || running.seq !== seq) breaches.push(`#${at} ${member} ended ${key}/${seq}, which it was not running`);
      open.delete(key);
      if (!ended.has(key)) ended.set(key, new Set());
      ended.get(key)!.add(seq);
    }
  }
  let handled = 0;
  for (const [key, last] of lastSeq) {
    const done = ended.get(key) ?? new Set();
    const missing = range(0, last).filter((s) => !done.has(s));
    if (missing.length > 0) breaches.push(`${key}: never handled ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ' …' : ''}`);
    handled += done.size;
  }
  return { breaches, repeats, handled };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
