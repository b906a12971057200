/** The nulls and FORBIDDEN errors put back into a response, for removals made before planning. */
import { applyRemovals } from '../../../../gateway/auth/response';
import { PLACEHOLDER, TYPE_KEY, type Removal } from '../../../../gateway/auth/restrict';

const removal = (path: string[], nullable: boolean[], extra: Partial<Removal> = {}): Removal => ({ path, nullable, reason: 'requires an authenticated caller', ...extra });

describe('applyRemovals', () => {
  it('one FORBIDDEN error per removal, its message naming the path without list markers', () => {
    const { errors } = applyRemovals({ users: [{ id: 1 }] }, [removal(['users', '@', 'email'], [true, true, true], { reason: 'requires scope users:email' })]);
    expect(errors).toEqual([{ message: 'Unauthorized field: users.email requires scope users:email', path: ['users', '@', 'email'], extensions: { code: 'FORBIDDEN' } }]);
  });

  it('with no data (null or undefined) gives the errors and leaves data as it was', () => {
    expect(applyRemovals(null, [removal(['me'], [true])])).toEqual({ data: null, errors: [expect.objectContaining({ path: ['me'] })] });
    expect(applyRemovals(undefined, [removal(['me'], [true])]).data).toBeUndefined();
  });

  it('a nullable field becomes null where it stands', () => {
    expect(applyRemovals({ me: { [PLACEHOLDER]: 'User', id: 'u1' } }, [removal(['me', 'email'], [true, true])]).data).toEqual({ me: { id: 'u1', email: null } });
  });

  it('a non-null field moves its null up to the nearest nullable ancestor', () => {
    expect(applyRemovals({ me: { profile: { id: 'u1' } } }, [removal(['me', 'profile', 'email'], [true, false, false])]).data).toEqual({ me: null });
  });

  it('with no nullable ancestor the whole data is null', () => {
    expect(applyRemovals({ me: { id: 'u1' }, other: 1 }, [removal(['me', 'email'], [false, false])]).data).toBeNull();
  });

  it('in a list, nulls each element’s field, or each element when the field is non-null and elements are nullable', () => {
    expect(applyRemovals({ users: [{ id: 1 }, { id: 2 }] }, [removal(['users', '@', 'email'], [true, true, true])]).data).toEqual({ users: [{ id: 1, email: null }, { id: 2, email: null }] });
    expect(applyRemovals({ users: [{ id: 1 }, { id: 2 }] }, [removal(['users', '@', 'email'], [true, true, false])]).data).toEqual({ users: [null, null] });
    expect(applyRemovals({ users: [{ id: 1 }] }, [removal(['users', '@', 'email'], [true, false, false])]).data).toEqual({ users: null });
  });

  it('walks nested lists and skips null elements and a value that is not the list it expected', () => {
    expect(applyRemovals({ grid: [[{ id: 1 }, null], null] }, [removal(['grid', '@', '@', 'email'], [true, true, true, true])]).data).toEqual({ grid: [[{ id: 1, email: null }, null], null] });
    expect(applyRemovals({ grid: { id: 1 } }, [removal(['grid', '@', 'email'], [true, true, true])]).data).toEqual({ grid: { id: 1 } });
    expect(applyRemovals({ me: null }, [removal(['me', 'email'], [true, true])]).data).toEqual({ me: null });
  });

  it('a removal under a type condition applies only to objects of those types, read from the typename it asked for', () => {
    const data = { search: [{ [TYPE_KEY]: 'User', name: 'Ada' }, { [TYPE_KEY]: 'Invoice', id: 'i1' }] };
    const result = applyRemovals(data, [removal(['search', '@', 'amount'], [false, false, true], { onTypes: ['Invoice'] })]);
    expect(result.data).toEqual({ search: [{ name: 'Ada' }, { id: 'i1', amount: null }] });
  });

  it('a removal under a type condition whose null moves up nulls only the objects of those types', () => {
    const data = { search: [{ [TYPE_KEY]: 'User', name: 'Ada' }, { [TYPE_KEY]: 'Invoice', id: 'i1' }] };
    const result = applyRemovals(data, [removal(['search', '@', 'amount'], [true, true, false], { onTypes: ['Invoice'] })]);
    expect(result.data).toEqual({ search: [{ name: 'Ada' }, null] });
  });

  it('removes every placeholder and typename it added, at any depth, and nothing else', () => {
    const data = { a: { [PLACEHOLDER]: 'X', [TYPE_KEY]: 'X', keep: [{ [PLACEHOLDER]: 'Y', deep: { [TYPE_KEY]: 'Z', v: 1 } }] }, __typename: 'Query' };
    expect(applyRemovals(data, []).data).toEqual({ a: { keep: [{ deep: { v: 1 } }] }, __typename: 'Query' });
  });

  it('several removals all apply', () => {
    const result = applyRemovals({ me: { id: 'u1' }, user: { id: 'u2' } }, [removal(['me', 'email'], [true, true]), removal(['user', 'email'], [true, true])]);
    expect(result.data).toEqual({ me: { id: 'u1', email: null }, user: { id: 'u2', email: null } });
    expect(result.errors.map((error) => error.path)).toEqual([['me', 'email'], ['user', 'email']]);
  });
});
