/** Parsing of saga messages off the bus: a malformed one throws PoisonMessageError, so the bus dead-letters it at once. */
import { z } from 'zod';
import { errorMessage, PoisonMessageError } from '../errors';
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
  deadline: z.number().int().positive().optional(),
});

const reply = z.object({
  sagaId: z.string().min(1),
  stepIndex: z.number().int().min(0),
  action,
  outcome: z.enum(['success', 'failure']),
  result: z.unknown().optional(),
  error: z.string().optional(),
  uncertain: z.boolean().optional(),
  retriable: z.boolean().optional(),
  expired: z.boolean().optional(),
});

export function parseCommand(value: string): SagaCommand {
  return parse(command, value, 'saga command') as SagaCommand;
}

export function parseReply(value: string): SagaReply {
  return parse(reply, value, 'saga reply') as SagaReply;
}

function parse(schema: z.ZodTypeAny, value: string, what: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    throw new PoisonMessageError(`not a ${what}: ${errorMessage(error)}`, error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new PoisonMessageError(`not a ${what}: ${problems}`);
  }
  return parsed.data;
}
