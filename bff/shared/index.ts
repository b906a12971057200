/** Building blocks shared by the web and mobile BFFs. */
export { createBffApp, finishBffApp, type BffAppOptions } from './app';
export { BffServer } from './server';
export { serveBff, type BffFactory } from './serve';
export { createBffServices, type BffServices } from './services';
export { callerFromToken, type Caller } from './caller';
export { createGatewayClient, GatewayUnavailableError, type GatewayClient, type GatewayRequest, type GatewayResponse, type GatewayStream, type GraphQLBody } from './gatewayClient';
export { rateLimit, type RateLimitOptions } from './rateLimit';
export { createResponseCache, type ResponseCache, type CacheEntry } from './responseCache';
export { HttpError, badRequest, notFound, unauthenticated, validate, errorHandler, unknownRoute, type ErrorBody } from './errors';
export { requireData, httpErrorOf, describePartial } from './graphqlErrors';
export { placeOrder, orderRequestSchema, type OrderRequest } from './placeOrder';
export { sagaProgress, TERMINAL_SAGA_STATES, type SagaStatus } from './sagaProgress';
