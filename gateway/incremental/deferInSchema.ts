/**
 * Lets `@defer` through validation: Apollo Gateway builds its API schema without the directive
 * (`toGraphQLJSSchema()` leaves it out unless asked), so Apollo Server and the WebSocket/SSE
 * transports would refuse any deferred query as "Unknown directive". Each supergraph's API schema
 * is built with it instead. A query that carries @defer but is not streamed is then planned by the
 * gateway's own planner, which ignores the directive: the whole result at once.
 */
import type { ApolloGateway } from '@apollo/gateway';
import type { Supergraph } from '@apollo/federation-internals';

interface SchemaFactory {
  createSchemaFromSupergraphSdl(supergraphSdl: string): { supergraph: Supergraph; supergraphSdl: string };
}

export function admitDefer(gateway: ApolloGateway): void {
  const factory = gateway as unknown as SchemaFactory;
  const create = factory.createSchemaFromSupergraphSdl.bind(gateway);
  factory.createSchemaFromSupergraphSdl = (supergraphSdl) => {
    const made = create(supergraphSdl);
    const apiSchema = made.supergraph.apiSchema();
    const toGraphQLJSSchema = apiSchema.toGraphQLJSSchema.bind(apiSchema);
    apiSchema.toGraphQLJSSchema = (config) => toGraphQLJSSchema({ includeDefer: true, ...config });
    return made;
  };
}
