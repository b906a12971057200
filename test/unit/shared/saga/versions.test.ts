/** A definition's version is the digest of its route; an orchestrator keeps every version and picks each saga's own. */
import { DefinitionVersions, versionName, versionOf } from '@trellis/kit/internal/saga/versions';
import { ErrorCode } from '@trellis/kit/internal/errors';
import type { SagaDefinition, StepDefinition } from '@trellis/kit/saga';

const retry = { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 };
const step = (name: string, extra: Partial<StepDefinition<unknown>> = {}): StepDefinition<unknown> => ({
  name,
  participant: 'catalog',
  command: `do-${name}`,
  compensation: `undo-${name}`,
  payload: () => ({}),
  timeoutMs: 1000,
  retry,
  ...extra,
});
const order = (steps: Array<StepDefinition<unknown>>, extra: Partial<SagaDefinition> = {}): SagaDefinition => ({ name: 'order', steps, ...extra });

describe('versionOf', () => {
  const base = order([step('reserve'), step('charge')]);

  it('is the same for the same route, whatever the payload builders, timeouts and retries', () => {
    const same = order([step('reserve', { payload: () => ({ other: 1 }), timeoutMs: 9, retry: { maxAttempts: 9, backoffMs: 1, maxBackoffMs: 1 } }), step('charge')]);
    expect(versionOf(same)).toBe(versionOf(base));
    expect(versionOf(base)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // Asked twice, the same answer (it is kept per definition).
    expect(versionOf(base)).toBe(versionOf(base));
  });

  it.each([
    ['a step added', order([step('reserve'), step('charge'), step('ship')])],
    ['steps reordered', order([step('charge'), step('reserve')])],
    ['a step renamed', order([step('reserve'), step('pay', { command: 'do-charge', compensation: 'undo-charge' })])],
    ['another participant', order([step('reserve', { participant: 'warehouse' }), step('charge')])],
    ['another command', order([step('reserve', { command: 'hold' }), step('charge')])],
    ['another compensation', order([step('reserve', { compensation: 'free' }), step('charge')])],
    ['no compensation', order([step('reserve', { compensation: undefined }), step('charge')])],
    ['a label', order([step('reserve'), step('charge')], { version: '2' })],
    ['another name', { name: 'order2', steps: [step('reserve'), step('charge')] }],
  ])('changes with %s', (_what, changed) => {
    expect(versionOf(changed)).not.toBe(versionOf(base));
  });

  it('names a version by its label and digest, the digest alone, or as unversioned', () => {
    expect(versionName({ version: 'abc', versionLabel: '2' })).toBe('2 (abc)');
    expect(versionName({ version: 'abc' })).toBe('abc');
    expect(versionName({})).toBe('unversioned');
  });
});

describe('DefinitionVersions', () => {
  const v1 = order([step('reserve'), step('charge')]);
  const v2 = order([step('reserve'), step('charge'), step('ship')], { version: '2' });
  const other: SagaDefinition = { name: 'refund', steps: [step('refund')] };
  const versions = new DefinitionVersions([v1, other, v2]);

  it('starts new sagas on the last version given', () => {
    expect(versions.newest('order')).toBe(v2);
    expect(new DefinitionVersions([v2, v1]).newest('order')).toBe(v1);
    expect(versions.newest('refund')).toBe(other);
    expect(() => versions.newest('nope')).toThrow('no saga definition named nope');
  });

  it("drives a saga with its own version, and a record written before versions with the newest", () => {
    expect(versions.forRecord({ definition: 'order', version: versionOf(v1) })).toEqual({ definition: v1 });
    expect(versions.forRecord({ definition: 'order', version: versionOf(v2) })).toEqual({ definition: v2 });
    expect(versions.forRecord({ definition: 'order' })).toEqual({ definition: v2 });
  });

  it('parks what it does not have: an unknown version, an unknown definition', () => {
    expect(versions.forRecord({ definition: 'order', version: 'not-a-version' })).toEqual({ parked: 'unknown-version' });
    expect(versions.forRecord({ definition: 'gone', version: versionOf(v1) })).toEqual({ parked: 'unknown-definition' });
    expect(versions.forRecord({ definition: 'gone' })).toEqual({ parked: 'unknown-definition' });
  });

  it('lists every version once, a version given twice kept once', () => {
    expect(new DefinitionVersions([v1, v2, order([step('reserve'), step('charge')])]).all()).toHaveLength(2);
    expect(versions.all()).toEqual([v1, v2, other]);
  });

  it('refuses one label on two different routes', () => {
    const clash = order([step('reserve')], { version: '2' });
    expect(() => new DefinitionVersions([v2, clash])).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }));
    expect(() => new DefinitionVersions([v2, clash])).toThrow('saga order: two definitions labelled version 2 have different steps; give the new one its own label');
    // The same label on the same route is the same version.
    expect(() => new DefinitionVersions([v2, order([step('reserve'), step('charge'), step('ship')], { version: '2' })])).not.toThrow();
    // Unlabelled definitions never clash by label.
    expect(() => new DefinitionVersions([v1, order([step('reserve')])])).not.toThrow();
  });
});
