/** What the FederatedExecutor uses to run a deferred operation (the extension itself is in index.ts). */
export { DeferPlanner } from './deferPlanner';
export { deliver, type RunPart } from './deliver';
export { FetchJournal } from './replay';
export { conditionHolds, operationOf } from './operation';
export { PartFinishing } from './finishing';
export { primaryPaths } from './primarySelection';
export { partsOf } from './parts';
export { PartShaping } from './shaping';
export type { Delivered, IncrementalPayload, Pending } from './payloads';
