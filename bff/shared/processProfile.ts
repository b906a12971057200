import type { ProcessProfile } from '../../shared';

/** What a BFF process runs, for the production start checks: the state store, nothing else. */
export const BFF_PROFILE: ProcessProfile = { backends: ['state'] };
