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
  SAGA_DUE_INDEX,
  type SagaOrchestratorOptions,
  type StartSagaOptions,
} from './orchestrator';
export { handleSagaCommands, SagaRefusal, dedupeKey, onceKey, type OnceOptions, type SagaHandler, type SagaHandlerContext, type HandlerResult, type StoredOutcome, type ParticipantOptions } from './participant';
export { systemClock, type Clock } from './clock';
export { applyReply, begin, createRecord, nextWakeUp, tick } from './machine';
export { SagaLog, type SagaLogOptions, type SagaOverview, type SagaSummary } from './sagaLog';
