/** What `loadConfig` says when it refuses an environment; fails the test when it accepts it or throws anything but a ConfigError. */
import { loadConfig } from '@trellis/kit/internal/config';
import { ConfigError } from '@trellis/kit/internal/errors';

export function configRefusal(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}
