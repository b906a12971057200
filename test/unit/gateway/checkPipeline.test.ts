/** The one check pipeline: ordered, stopping at the first refusal, and wired into Apollo Server once. */
import { createHash } from 'node:crypto';
import { buildSchema, GraphQLError, parse, print, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { checkPipelinePlugin, runChecks } from '../../../gateway/checkPipeline';
import type { CheckedOperation, GatewayExtension, OperationCheck } from '../../../gateway/extension';

const schema = buildSchema('type Query { a: Int b: Int }');
const operationOf = (document: DocumentNode) => document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
const checkOf = (query: string): OperationCheck => {
  const document = parse(query);
  return { source: query, schema, document, operation: operationOf(document), variables: { v: 1 }, context: {} as never };
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('runChecks', () => {
  it('runs every check in order, each on the document the previous one rewrote, and finishes in reverse order', () => {
    const seen: string[] = [];
    const rewritten = parse('query Q { b }');
    const extensions: GatewayExtension[] = [
      { name: 'first', checkOperation: ({ document, variables }) => void seen.push(`first ${print(document)} ${JSON.stringify(variables)}`) },
      { name: 'no check' },
      {
        name: 'rewrite',
        checkOperation: () => ({ document: rewritten, queryHash: 'hash-1', finish: (result: ExecutionResult) => ({ ...result, data: { ...result.data, rewrite: seen.push('finish rewrite') } }) }),
      },
      {
        name: 'last',
        checkOperation: ({ document, operation }) => {
          seen.push(`last ${print(document)} ${operation.name?.value} ${operation === operationOf(rewritten)}`);
          return { finish: (result: ExecutionResult) => ({ ...result, data: { ...result.data, last: seen.push('finish last') } }) };
        },
      },
    ];
    const checked = runChecks(extensions, checkOf('query Q { a }'));
    expect(checked.document).toBe(rewritten);
    expect(checked.queryHash).toBe('hash-1');
    expect(seen).toEqual(['first query Q {\n  a\n} {"v":1}', 'last query Q {\n  b\n} Q true']);
    expect(checked.finish({ data: {} }).data).toEqual({ last: 3, rewrite: 4 });
  });

  it('stops at the first refusal: no later check runs', () => {
    const later = jest.fn();
    const refusal = new GraphQLError('too costly', { extensions: { code: 'QUERY_TOO_COSTLY' } });
    const extensions: GatewayExtension[] = [
      {
        name: 'limits',
        checkOperation: () => {
          throw refusal;
        },
      },
      { name: 'auth', checkOperation: later },
    ];
    expect(() => runChecks(extensions, checkOf('{ a }'))).toThrow(refusal);
    expect(later).not.toHaveBeenCalled();
  });

  it('leaves the document, its hash and every result as they are when no check rewrites', () => {
    const check = checkOf('{ a }');
    const checked = runChecks([{ name: 'quiet', checkOperation: () => undefined }], check);
    expect(checked.document).toBe(check.document);
    expect(checked.queryHash).toBeUndefined();
    const result = { data: { a: 1 } };
    expect(checked.finish(result)).toBe(result);
  });
});

describe('checkPipelinePlugin', () => {
  const requestContext = (query: string, operation = true) => {
    const document = parse(query);
    return { schema, document, source: query, queryHash: sha256(query), operation: operation ? operationOf(document) : undefined, request: { variables: { v: 2 } }, contextValue: { correlationId: 'c' } };
  };
  const listen = async (check: (operation: OperationCheck) => CheckedOperation) => (await checkPipelinePlugin(check).requestDidStart!({} as never))!;
  const single = (result: ExecutionResult) => ({ response: { body: { kind: 'single', singleResult: { ...result } } } });

  it('runs the pipeline once per operation with what Apollo Server resolved, and plans the rewritten document under its hash', async () => {
    const rewritten = parse('{ b }');
    const check = jest.fn((_operation: OperationCheck): CheckedOperation => ({ document: rewritten, finish: (result) => ({ ...result, data: { b: 'finished' } }) }));
    const listener = await listen(check);
    const context = requestContext('{ a }');
    await listener.didResolveOperation!(context as never);
    expect(check).toHaveBeenCalledTimes(1);
    expect(check.mock.calls[0]![0]).toEqual({ source: '{ a }', schema, document: parse('{ a }'), operation: operationOf(parse('{ a }')), variables: { v: 2 }, context: { correlationId: 'c' } });
    expect(context.document).toBe(rewritten);
    expect(context.queryHash).toBe(sha256(print(rewritten)));
    const response = single({ data: { b: 1 }, errors: [new GraphQLError('kept')] });
    await listener.willSendResponse!(response as never);
    expect(response.response.body.singleResult).toEqual({ data: { b: 'finished' }, errors: [new GraphQLError('kept')] });
  });

  it('takes the hash a check gives, and keeps document and hash when nothing is rewritten', async () => {
    const given = await listen(() => ({ document: parse('{ b }'), queryHash: 'given', finish: (result) => result }));
    const rewritten = requestContext('{ a }');
    await given.didResolveOperation!(rewritten as never);
    expect(rewritten.queryHash).toBe('given');

    const context = requestContext('{ a }');
    const { document, queryHash } = context;
    const untouched = await listen(() => ({ document, finish: (result) => result }));
    await untouched.didResolveOperation!(context as never);
    expect(context.document).toBe(document);
    expect(context.queryHash).toBe(queryHash);
    const response = single({ data: { a: 1 } });
    const before = response.response.body.singleResult;
    await untouched.willSendResponse!(response as never);
    expect(response.response.body.singleResult).toBe(before);
    expect(response.response.body.singleResult).toEqual({ data: { a: 1 } });
  });

  it('lets a refusal through to Apollo Server, and then finishes nothing', async () => {
    const refusal = new GraphQLError('refused');
    const listener = await listen(() => {
      throw refusal;
    });
    await expect(listener.didResolveOperation!(requestContext('{ a }') as never)).rejects.toBe(refusal);
    const response = single({ errors: [refusal] });
    await listener.willSendResponse!(response as never);
    expect(response.response.body.singleResult).toEqual({ errors: [refusal] });
  });

  it('runs nothing without an operation, and leaves an incremental answer alone', async () => {
    const check = jest.fn((operation: OperationCheck): CheckedOperation => ({ document: operation.document, finish: () => ({ data: { changed: true } }) }));
    const none = await listen(check);
    await none.didResolveOperation!(requestContext('query A { a }', false) as never);
    expect(check).not.toHaveBeenCalled();

    const listener = await listen(check);
    await listener.didResolveOperation!(requestContext('{ a }') as never);
    const incremental = { response: { body: { kind: 'incremental', initialResult: { data: { a: 1 } } } } };
    await listener.willSendResponse!(incremental as never);
    expect(incremental.response.body).toEqual({ kind: 'incremental', initialResult: { data: { a: 1 } } });
  });
});
