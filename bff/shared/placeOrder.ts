/** Starting the placeOrder saga through the gateway: the body both BFFs accept and the mutation they send. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from '@trellis/kit/saga';
import type { Caller } from './caller';
import { HttpError, validate } from './errors';
import type { GatewayClient } from './gatewayClient';
import { requireData } from './graphqlErrors';

export const orderRequestSchema = z
  .object({
    items: z
      .array(z.object({ productId: z.string().min(1).max(64), quantity: z.number().int().min(1).max(100) }).strict())
      .min(1)
      .max(20),
    paymentMethod: z.string().min(1).max(64).default('card-ok'),
  })
  .strict();

export type OrderRequest = z.infer<typeof orderRequestSchema>;

const PLACE_ORDER = 'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { sagaId state } }';

/**
 * Starts the saga for one user action. The app's `Idempotency-Key` header (one per tap of "Buy",
 * kept across its retries) goes to the gateway as the mutation's idempotency key, so a retried
 * POST returns the first saga; without one, the BFF makes one for this request.
 */
export async function placeOrder(
  gateway: Pick<GatewayClient, 'execute'>,
  body: unknown,
  caller: Caller,
  correlationId: string,
  idempotencyKey: string | undefined,
): Promise<{ sagaId: string; state: string }> {
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
    throw new HttpError(400, 'BAD_REQUEST', `Idempotency-Key ${IDEMPOTENCY_KEY_RULE}`);
  }
  const input = { ...validate(orderRequestSchema, body, 'order'), idempotencyKey: idempotencyKey ?? randomUUID() };
  const response = await gateway.execute<{ placeOrder: { sagaId: string; state: string } }>({ query: PLACE_ORDER, variables: { input }, token: caller.token, correlationId });
  return requireData(response).data.placeOrder;
}
