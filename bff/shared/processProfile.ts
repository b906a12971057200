import type { ProcessProfile } from '@trellis/kit';

/** What a BFF process runs, for the production start checks: the state store, nothing else. */
export const BFF_PROFILE: ProcessProfile = { backends: ['state'] };
