export { apolloHandler } from './apolloHandler';
export { mountHealth } from './health';
export { listen, closeServer } from './listen';
export { isOriginAllowed, type CorsPolicy } from './origin';
export { graphqlError, jsonErrorHandler } from './jsonErrors';
export { quietClientProtocolErrors } from './webSocketErrors';
export {
  type AcceptedAnswers,
  type Answer,
  GraphQLMediaType,
  MultipartSpec,
  acceptedAnswers,
  answerFor,
  answerMediaType,
  negotiateGraphQLAnswer,
  negotiatedAnswers,
  negotiatedMediaType,
  sendRequestError,
} from './graphqlOverHttp';
export { type MultipartEnd, type MultipartOptions, multipartContentType, writeMultipart } from './multipart';
