import { requireOwner } from '@trellis/kit/internal/subgraph/ownership';
import { ForbiddenError, TrellisError } from '@trellis/kit/internal/errors';

const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('requireOwner', () => {
  const u1 = { id: 'u1', scopes: [] };

  it('lets the owner through', () => {
    expect(refusal(() => requireOwner(u1, 'u1', 'order o1'))).toBeUndefined();
  });

  it('refuses another user with FORBIDDEN, not retriable, naming the thing', () => {
    const error = refusal(() => requireOwner({ id: 'u2', scopes: ['admin', 'payments:read'] }, 'u1', 'order o1'));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toBeInstanceOf(TrellisError);
    expect(error).toMatchObject({ code: 'FORBIDDEN', retriable: false, message: 'order o1 belongs to another user' });
  });

  it('refuses an anonymous caller, asking them to sign in', () => {
    expect(refusal(() => requireOwner(null, 'u1', 'saga s1'))).toMatchObject({ code: 'FORBIDDEN', message: 'saga s1 belongs to a user: sign in as them' });
  });

  it('refuses everyone a record with no owner, and says "this" when nothing is named', () => {
    expect(refusal(() => requireOwner(u1, undefined))).toMatchObject({ code: 'FORBIDDEN', message: 'this belongs to another user' });
    expect(refusal(() => requireOwner({ id: '', scopes: [] }, undefined))).toBeInstanceOf(ForbiddenError);
  });
});
