/**
 * `@authenticated` and `@requiresScopes` enforced inside the subgraph, on every path a field can be
 * reached by (a root field, `_entities`, a subscription, HTTP or WebSocket): each guarded field's
 * resolver first checks the caller in the context, with the rules the gateway uses
 * (`shared/auth/access.ts`). A subgraph reached directly so refuses exactly what the gateway would.
 */
import { defaultFieldResolver, GraphQLError, isObjectType, type DocumentNode, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { deny, readAccessPolicy, requirementsOf, type AccessSubject } from '../auth/access';

/** Wraps, in place, the resolver of every field the type definitions guard; how many fields are guarded. */
export function enforceAccess(schema: GraphQLSchema, typeDefs: DocumentNode): number {
  const policy = readAccessPolicy(typeDefs);
  let guarded = 0;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const requirements = requirementsOf(schema, policy, type, field);
      if (requirements.length === 0) continue;
      const guard = <T extends GraphQLFieldResolver<unknown, unknown>>(resolve: T): T =>
        ((source, args, context: { user?: AccessSubject }, info) => {
          const reason = deny(requirements, context?.user ?? null);
          if (reason) throw new GraphQLError(`Unauthorized field: ${type.name}.${field.name} ${reason}`, { extensions: { code: 'FORBIDDEN' } });
          return resolve(source, args, context, info);
        }) as T;
      field.resolve = guard(field.resolve ?? defaultFieldResolver);
      if (field.subscribe) field.subscribe = guard(field.subscribe);
      guarded++;
    }
  }
  return guarded;
}
