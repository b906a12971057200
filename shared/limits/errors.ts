/** The closed set of limit refusals: each a GraphQL error with its own code, the measured value and the limit. */
import { GraphQLError } from 'graphql';

export const LimitCode = {
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  INTROSPECTION_TOO_DEEP: 'INTROSPECTION_TOO_DEEP',
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS: 'TOO_MANY_ROOT_FIELDS',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  QUERY_TOO_COSTLY: 'QUERY_TOO_COSTLY',
  SLICING_ARGUMENT_REQUIRED: 'SLICING_ARGUMENT_REQUIRED',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** A subgraph's `_entities` asked for more representations than SUBGRAPH_MAX_REPRESENTATIONS. */
  TOO_MANY_REPRESENTATIONS: 'TOO_MANY_REPRESENTATIONS',
} as const;
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/** A request over one of the limits. Never retriable: the same request is refused again. */
export class LimitExceededError extends GraphQLError {
  readonly retriable = false;

  constructor(
    readonly code: LimitCode,
    message: string,
    readonly measured: number,
    readonly limit: number,
    status = 400,
  ) {
    super(message, { extensions: { code, measured, limit, http: { status } } });
    this.name = 'LimitExceededError';
  }
}
