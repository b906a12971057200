/**
 * Ownership: a record that belongs to a user (their orders, payments, email, sagas) is answered to
 * that user only. Scopes say what kind of data a token may read; ownership says whose. No scope
 * lifts it: the platform has no admin scope that reads other users' data (see docs/security.md).
 */
import { ForbiddenError } from '../errors';
import type { CallerIdentity } from './context';

/** Refuses with FORBIDDEN unless `caller` is the user `ownerId`; a record with no owner is nobody's to read. */
export function requireOwner(caller: CallerIdentity | null, ownerId: string | undefined, what = 'this'): void {
  if (!caller) throw new ForbiddenError(`${what} belongs to a user: sign in as them`);
  // A record written before owners were kept (ownerId undefined) matches no caller's id: it fails closed.
  if (caller.id !== ownerId) throw new ForbiddenError(`${what} belongs to another user`);
}
