import type { ProcessProfile } from '../config';

/** What a subgraph process runs, for the production start checks: every backend (`connectBackends`' default). */
export const SUBGRAPH_PROFILE: ProcessProfile = { backends: ['discovery', 'state', 'events'] };
