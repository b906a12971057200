/** The supergraph handed to Apollo Gateway: the two security features Trellis enforces are accepted, any other still refused. */
import { liftEnforcedSecurityFeatures, withEnforcedSecurityFeatures } from '../../../../gateway/auth/securityFeatures';

const SDL = [
  'schema',
  '  @link(url: "https://specs.apollo.dev/link/v1.0")',
  '  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)',
  '  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
  '  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
  '  @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
  '{ query: Query }',
].join('\n');

describe('liftEnforcedSecurityFeatures', () => {
  it('lifts `for: SECURITY` from @authenticated and @requiresScopes only', () => {
    expect(liftEnforcedSecurityFeatures(SDL)).toBe(
      [
        'schema',
        '  @link(url: "https://specs.apollo.dev/link/v1.0")',
        '  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)',
        '  @link(url: "https://specs.apollo.dev/authenticated/v0.1")',
        '  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1")',
        '  @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
        '{ query: Query }',
      ].join('\n'),
    );
  });

  it('leaves a look-alike URL that is not the spec alone', () => {
    const sdl = '@link(url: "https://evil.test/https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)';
    expect(liftEnforcedSecurityFeatures(sdl)).toBe(sdl);
  });
});

describe('withEnforcedSecurityFeatures', () => {
  it('hands the gateway lifted SDL at start and on every update', async () => {
    const updates: string[] = [];
    let push!: (sdl: string) => void;
    const manager = withEnforcedSecurityFeatures({
      initialize: async (options) => {
        push = options.update;
        return { supergraphSdl: SDL };
      },
    });
    const result = await manager.initialize({ update: (sdl: string) => updates.push(sdl), healthCheck: async () => undefined, getDataSource: () => undefined as never });
    expect(result.supergraphSdl).toBe(liftEnforcedSecurityFeatures(SDL));
    push(SDL);
    expect(updates).toEqual([liftEnforcedSecurityFeatures(SDL)]);
  });
});
