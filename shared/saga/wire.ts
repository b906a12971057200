/** Parsing of saga messages off the bus: a malformed one throws, so the bus dead-letters it. */
import { z } from 'zod';
import type { SagaCommand, SagaReply } from './types';

const action = z.enum(['command', 'compensation']);

const command = z.object({
  sagaId: z.string().min(1),
  saga: z.string().min(1),
  step: z.string().min(1),
  stepIndex: z.number().int().min(0),
  action,
  name: z.string().min(1),
  attempt: z.number().int().min(1),
  payload: z.unknown(),
});

const reply = z.object({
  sagaId: z.string().min(1),
  stepIndex: z.number().int().min(0),
  action,
  outcome: z.enum(['success', 'failure']),
  result: z.unknown().optional(),
  error: z.string().optional(),
});

export function parseCommand(value: string): SagaCommand {
  return command.parse(JSON.parse(value)) as SagaCommand;
}

export function parseReply(value: string): SagaReply {
  return reply.parse(JSON.parse(value)) as SagaReply;
}
