/**
 * Refuses an operation over the depth, introspection depth, alias, root field, directive or cost
 * limit once it is parsed and validated, first of the gateway's checks (see GatewayServer's
 * check pipeline), so a refused operation costs the other checks and the subgraphs nothing.
 */
import { enforceOperationLimits, type OperationMeasure } from '@trellis/kit/internal';
import type { CheckSpans } from '../observability/checkSpans';

// The check itself is the kit's: a subgraph reached directly runs it too (shared/limits).
export { enforceOperationLimits, type OperationLimits } from '@trellis/kit/internal';

/** Attributes of the limits span: what the operation measured. */
export const LIMIT_ATTRIBUTES = { depth: 'trellis.limits.depth', aliases: 'trellis.limits.aliases', rootFields: 'trellis.limits.root_fields', cost: 'trellis.limits.cost' } as const;

/** `enforceOperationLimits` in the `gateway.limits` span (with tracing on), which records what was measured. */
export function tracedOperationLimits(spans: CheckSpans, ...args: Parameters<typeof enforceOperationLimits>): OperationMeasure {
  return spans.check('gateway.limits', (span) => {
    const measure = enforceOperationLimits(...args);
    span?.setAttributes({
      [LIMIT_ATTRIBUTES.depth]: measure.depth,
      [LIMIT_ATTRIBUTES.aliases]: measure.aliases,
      [LIMIT_ATTRIBUTES.rootFields]: measure.rootFields,
      [LIMIT_ATTRIBUTES.cost]: measure.cost,
    });
    return measure;
  });
}
