import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { introspectionDepthError } from '@trellis/kit/internal/limits/introspectionLimit';
import { measureOperation } from '@trellis/kit/internal/limits';

const schema = buildSchema('type Query { a: Int }');
const deep = '{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }';

describe('introspection depth', () => {
  it("refuses three nested introspection lists in graphql's own validation, which every transport runs", () => {
    const errors = validate(schema, parse(deep), specifiedRules);
    expect(errors.map((error) => error.message)).toEqual(['Maximum introspection depth exceeded']);
  });

  it("passes GraphiQL's standard introspection query, with every option, in validation and in the limit", () => {
    const standard = parse(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    expect(validate(schema, standard, specifiedRules)).toEqual([]);
    const operation = standard.definitions.find((d) => d.kind === 'OperationDefinition')!;
    expect(measureOperation(schema, standard, operation as never, { defaultListSize: 10 }).introspectionDepth).toBeLessThanOrEqual(2);
  });

  it("turns graphql's refusal into INTROSPECTION_TOO_DEEP with the limit, keeping its locations", () => {
    const [error] = validate(schema, parse(deep), specifiedRules);
    const formatted = { ...error!.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(introspectionDepthError(2)(formatted)).toEqual({
      message: 'introspection nests more lists (fields, interfaces, possibleTypes, inputFields) than the limit of 2',
      locations: [{ line: 1, column: 3 }],
      extensions: { code: 'INTROSPECTION_TOO_DEEP', limit: 2 },
    });
  });

  it('leaves other errors alone', () => {
    const other = { message: 'Cannot query field "b" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(introspectionDepthError(2)(other)).toBe(other);
    const sameWords = { message: 'Maximum introspection depth exceeded', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    expect(introspectionDepthError(2)(sameWords)).toBe(sameWords);
    const noExtensions = { message: 'Maximum introspection depth exceeded' };
    expect(introspectionDepthError(2)(noExtensions)).toBe(noExtensions);
  });
});
