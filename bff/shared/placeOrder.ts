/** Starting the placeOrder saga through the gateway: the body both BFFs accept and the mutation they send. */
import { z } from 'zod';
import type { Caller } from './caller';
import { validate } from './errors';
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

export async function placeOrder(gateway: GatewayClient, body: unknown, caller: Caller, correlationId: string): Promise<{ sagaId: string; state: string }> {
  const input = validate(orderRequestSchema, body, 'order');
  const response = await gateway.execute<{ placeOrder: { sagaId: string; state: string } }>({ query: PLACE_ORDER, variables: { input }, token: caller.token, correlationId });
  return requireData(response).data.placeOrder;
}
