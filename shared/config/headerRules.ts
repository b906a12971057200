/**
 * `HEADER_RULES`: which headers of the caller's request go on to each subgraph, in the shape of
 * Apollo Router's `headers` config. Rules of `all` run first, then the subgraph's own, in order,
 * on an empty set of outgoing headers:
 *
 *   {"all": {"request": [{"propagate": {"named": "traceparent"}}]},
 *    "subgraphs": {"catalog": {"request": [{"propagate": {"named": "x-tenant", "rename": "x-catalog-tenant", "default": "none"}},
 *                                          {"remove": {"named": "authorization"}},
 *                                          {"insert": {"name": "x-gateway", "value": "trellis"}}]}}}
 */
import { z } from 'zod';

/** Headers the gateway sets itself on a subgraph call: a rule may not forward, rename to or insert them. */
export const RESERVED_HEADERS = ['accept', 'connection', 'content-length', 'content-type', 'host', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'x-correlation-id'];

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase())
  .refine((name) => !RESERVED_HEADERS.includes(name), (name) => ({ message: `${name} is set by the gateway itself` }));

const propagate = z.object({ named: headerName, rename: headerName.optional(), default: z.string().optional() }).strict();
const remove = z.object({ named: headerName }).strict();
const insert = z.object({ name: headerName, value: z.string() }).strict();

export type HeaderRule = { propagate: z.output<typeof propagate> } | { remove: z.output<typeof remove> } | { insert: z.output<typeof insert> };

// One object with optional keys rather than a union, so a mistake inside a rule is reported at its path, not as "Invalid input".
const rule = z
  .object({ propagate: propagate.optional(), remove: remove.optional(), insert: insert.optional() })
  .strict()
  .refine((shape) => Object.values(shape).filter(Boolean).length === 1, 'each rule is exactly one of propagate, remove or insert')
  .transform((shape) => shape as HeaderRule);
const ruleSet = z.object({ request: z.array(rule) }).strict();

export type HeaderRuleSet = z.output<typeof ruleSet>;

export interface HeaderRules {
  all: HeaderRuleSet;
  subgraphs: Record<string, HeaderRuleSet>;
}

/** Without HEADER_RULES (or without its `all`): what the gateway always forwarded, to every subgraph. */
export const DEFAULT_HEADER_RULES: HeaderRuleSet = {
  request: ['traceparent', 'tracestate', 'authorization', 'idempotency-key'].map((named) => ({ propagate: { named } })),
};

export const headerRulesSchema = z
  .object({ all: ruleSet.optional(), subgraphs: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a subgraph name'), ruleSet).optional() })
  .strict()
  .transform((rules): HeaderRules => ({ all: rules.all ?? DEFAULT_HEADER_RULES, subgraphs: rules.subgraphs ?? {} }));
