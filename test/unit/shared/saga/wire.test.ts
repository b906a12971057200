/** Saga messages off the bus: a well-formed one parses, a malformed one is a PoisonMessageError naming what is wrong (so the bus dead-letters it at once). */
import { PoisonMessageError } from '@trellis/kit/internal/errors';
import { parseCommand, parseReply } from '@trellis/kit/internal/saga/wire';

const command = { sagaId: 's1', saga: 'placeOrder', step: 'charge', stepIndex: 0, action: 'command', name: 'charge', attempt: 1, payload: { amount: 5 } };
const reply = { sagaId: 's1', stepIndex: 0, action: 'compensation', outcome: 'failure', error: 'declined', uncertain: true };

function refusal(parse: () => unknown): PoisonMessageError {
  try {
    parse();
  } catch (error) {
    if (error instanceof PoisonMessageError) return error;
    throw error;
  }
  throw new Error('parsed a message that should have been refused');
}

describe('saga wire format', () => {
  it('parses a command and a reply as sent', () => {
    expect(parseCommand(JSON.stringify(command))).toEqual(command);
    expect(parseReply(JSON.stringify(reply))).toEqual(reply);
    // With a deadline, and a reply that says whether retrying may fix it or it came too late.
    expect(parseCommand(JSON.stringify({ ...command, deadline: 1_700_000_000_000 }))).toEqual({ ...command, deadline: 1_700_000_000_000 });
    expect(parseReply(JSON.stringify({ ...reply, retriable: true, expired: false }))).toEqual({ ...reply, retriable: true, expired: false });
    expect(parseReply(JSON.stringify({ sagaId: 's1', stepIndex: 2, action: 'command', outcome: 'success', result: { id: 'p1' } }))).toEqual({
      sagaId: 's1',
      stepIndex: 2,
      action: 'command',
      outcome: 'success',
      result: { id: 'p1' },
    });
  });

  it('refuses text that is not JSON, naming the kind of message and the parse error', () => {
    const error = refusal(() => parseCommand('{not json'));
    expect(error.code).toBe('MESSAGE_INVALID');
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(/^not a saga command: .*JSON/);
  });

  it('names every field that is wrong, by its path', () => {
    const error = refusal(() => parseCommand(JSON.stringify({ ...command, stepIndex: -1, attempt: 0, action: 'undo' })));
    expect(error.message).toMatch(/^not a saga command: /);
    expect(error.message).toContain('stepIndex: ');
    expect(error.message).toContain('attempt: ');
    expect(error.message).toContain('action: ');
    expect(error.message.split('; ')).toHaveLength(3);
  });

  it('names the root when the message is not an object at all', () => {
    expect(refusal(() => parseReply('42')).message).toMatch(/^not a saga reply: \(root\): /);
  });

  it.each([
    ['an empty saga id', { ...command, sagaId: '' }, 'sagaId'],
    ['a fractional step index', { ...command, stepIndex: 0.5 }, 'stepIndex'],
    ['no name', { ...command, name: undefined }, 'name'],
    ['a deadline that is not a time', { ...command, deadline: '2030-01-01' }, 'deadline'],
    ['a fractional deadline', { ...command, deadline: 1.5 }, 'deadline'],
    ['a deadline of zero', { ...command, deadline: 0 }, 'deadline'],
  ])('refuses a command with %s', (_what, message, field) => {
    expect(refusal(() => parseCommand(JSON.stringify(message))).message).toContain(`${field}: `);
  });

  it.each([
    ['an unknown outcome', { ...reply, outcome: 'maybe' }, 'outcome'],
    ['an uncertain flag that is not a boolean', { ...reply, uncertain: 'yes' }, 'uncertain'],
    ['an error that is not text', { ...reply, error: 7 }, 'error'],
    ['a retriable flag that is not a boolean', { ...reply, retriable: 1 }, 'retriable'],
    ['an expired flag that is not a boolean', { ...reply, expired: 'yes' }, 'expired'],
  ])('refuses a reply with %s', (_what, message, field) => {
    expect(refusal(() => parseReply(JSON.stringify(message))).message).toContain(`${field}: `);
  });
});
