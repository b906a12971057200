export * from './types';
export { SagaOrchestrator, sagaChannel, sagaKey, type SagaOrchestratorOptions } from './orchestrator';
export { handleSagaCommands, SagaRefusal, dedupeKey, type SagaHandler, type SagaHandlerContext, type HandlerResult, type StoredOutcome } from './participant';
export { systemClock, type Clock } from './clock';
export { applyReply, begin, createRecord, nextWakeUp, tick } from './machine';
