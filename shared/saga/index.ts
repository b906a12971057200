export * from './types';
export {
  SagaOrchestrator,
  IdempotencyKeyReusedError,
  IDEMPOTENCY_KEY_PATTERN,
  IDEMPOTENCY_KEY_RULE,
  sagaChannel,
  sagaKey,
  sagaHeaders,
  idempotencyKey,
  type SagaOrchestratorOptions,
  type StartSagaOptions,
} from './orchestrator';
export { handleSagaCommands, SagaRefusal, dedupeKey, onceKey, onceIdempotencyKey, type OnceOptions, type SagaHandler, type SagaHandlerContext, type HandlerResult, type StoredOutcome, type ParticipantOptions } from './participant';
export { dueIndexKey, dueShardOf, sagaHashTag, DEFAULT_DUE_SHARDS, LEGACY_DUE_INDEX } from './keys';
export { systemClock, type Clock } from './clock';
export { DEFAULT_DEADLINE_SKEW_MS } from './commandExpiry';
export { applyReply, begin, createRecord, nextWakeUp, tick } from './machine';
export { versionOf, versionName, type ParkReason } from './versions';
export { listParkedSagas, type ParkedSaga } from './parking';
export { sagasInFlightByVersion, type VersionInFlight } from './versionCensus';
export { SagaLog, MAX_OVERVIEW_LIMIT, type SagaLogOptions, type SagaOverview, type SagaSummary, type OverviewLimits } from './sagaLog';
