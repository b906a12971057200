export { apolloHandler } from './apolloHandler';
export { mountHealth } from './health';
export { listen, closeServer } from './listen';
export { isOriginAllowed, type CorsPolicy } from './origin';
export { graphqlError, jsonErrorHandler } from './jsonErrors';
export { quietClientProtocolErrors } from './webSocketErrors';
export { GraphQLMediaType, answerMediaType, negotiateGraphQLAnswer, negotiatedMediaType, sendRequestError } from './graphqlOverHttp';
