/** Caps on open subscriptions: per graphql-ws connection and per caller across connections and SSE; a slot freed once, however often released. */
import { GraphQLError } from 'graphql';
import { Registry } from 'prom-client';
import { SubscriptionLimitError, SubscriptionSlots } from '../../../../gateway/subscriptions/slots';
import { subscriptionMetrics } from '../../../../gateway/subscriptions/metrics';

function refusedBy(action: () => unknown): SubscriptionLimitError {
  try {
    action();
  } catch (error) {
    if (error instanceof SubscriptionLimitError) return error;
    throw error;
  }
  throw new Error('expected a SubscriptionLimitError');
}

describe('SubscriptionSlots', () => {
  it('refuses one subscription over the per-connection cap with its own code, and takes one again once a slot is freed', () => {
    const slots = new SubscriptionSlots({ maxPerConnection: 2, maxPerUser: 10 });
    const connection = slots.connection();
    const first = connection.take('user:u1');
    connection.take('user:u1');
    expect(connection.open).toBe(2);
    const error = refusedBy(() => connection.take('user:u1'));
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.message).toBe('this connection already has 2 open subscriptions, the most allowed; end one first');
    expect(error.extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION', limit: 2 });
    expect(error).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION', limit: 2, retriable: true, name: 'SubscriptionLimitError' });
    // A refusal holds nothing.
    expect(slots.heldBy('user:u1')).toBe(2);
    first.release();
    expect(connection.open).toBe(1);
    expect(slots.heldBy('user:u1')).toBe(1);
    expect(() => connection.take('user:u1')).not.toThrow();
    // Another connection has its own count.
    expect(() => slots.connection().take('user:u1')).not.toThrow();
  });

  it('caps a caller across connections and streams, other callers apart', () => {
    const slots = new SubscriptionSlots({ maxPerConnection: 10, maxPerUser: 3 });
    const [a, b] = [slots.connection(), slots.connection()];
    a.take('user:u1');
    b.take('user:u1');
    const stream = slots.take('user:u1');
    const error = refusedBy(() => b.take('user:u1'));
    expect(error.message).toBe('this client already has 3 open subscriptions, the most allowed; end one first');
    expect(error.extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 3 });
    expect(refusedBy(() => slots.take('user:u1')).code).toBe('TOO_MANY_SUBSCRIPTIONS_PER_USER');
    // Refused by the caller's cap, the connection did not count it either.
    expect(b.open).toBe(1);
    expect(() => slots.take('ip:10.0.0.1')).not.toThrow();
    stream.release();
    expect(() => b.take('user:u1')).not.toThrow();
    expect(b.open).toBe(2);
  });

  it('frees a slot once however often it is released, and forgets a caller with nothing open', () => {
    const slots = new SubscriptionSlots({ maxPerConnection: 2, maxPerUser: 2 });
    const connection = slots.connection();
    const slot = connection.take('user:u1');
    const other = connection.take('user:u1');
    slot.release();
    slot.release();
    expect(connection.open).toBe(1);
    expect(slots.heldBy('user:u1')).toBe(1);
    const stream = slots.take('user:u2');
    stream.release();
    stream.release();
    expect(slots.heldBy('user:u2')).toBe(0);
    other.release();
    expect(slots.heldBy('user:u1')).toBe(0);
    expect(connection.open).toBe(0);
    // Two slots again, not more: the double releases gave nothing back twice.
    connection.take('user:u1');
    connection.take('user:u1');
    expect(() => connection.take('user:u1')).toThrow(SubscriptionLimitError);
  });

  it('has no cap where it is 0', () => {
    const slots = new SubscriptionSlots({ maxPerConnection: 0, maxPerUser: 0 });
    const connection = slots.connection();
    for (let i = 0; i < 1000; i++) connection.take('user:u1');
    expect(connection.open).toBe(1000);
    expect(slots.heldBy('user:u1')).toBe(1000);
  });

  it('counts what is open and each refusal by its cap, with both refusal series there from the start', async () => {
    const registry = new Registry();
    const metrics = subscriptionMetrics(registry);
    const refused = async () => Object.fromEntries((await metrics.refused.get()).values.map((value) => [value.labels.reason, value.value]));
    const open = async () => (await metrics.open.get()).values[0].value;
    expect(await refused()).toEqual({ per_connection: 0, per_user: 0 });
    const slots = new SubscriptionSlots({ maxPerConnection: 1, maxPerUser: 2 }, metrics);
    const connection = slots.connection();
    const slot = connection.take('user:u1');
    const stream = slots.take('user:u1');
    expect(await open()).toBe(2);
    expect(() => connection.take('user:u1')).toThrow(SubscriptionLimitError);
    expect(() => slots.take('user:u1')).toThrow(SubscriptionLimitError);
    expect(() => slots.connection().take('user:u1')).toThrow(SubscriptionLimitError);
    expect(await refused()).toEqual({ per_connection: 1, per_user: 2 });
    expect(await open()).toBe(2);
    slot.release();
    slot.release();
    stream.release();
    expect(await open()).toBe(0);
    expect(await registry.metrics()).toContain('# HELP trellis_gateway_open_subscriptions Subscriptions open in this gateway process (graphql-ws and SSE)');
  });
});
