/** serveBff: what the BFF process does with its config under runMain (the signals are runMain's own, mocked here). */
import { loadConfig, type Config } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import type { MainContext, Stop } from '@trellis/kit/internal/lifecycle';
import { serveBff, type BffServer } from '../../../../bff/shared';
import { InMemoryStateStore } from '@trellis/kit/testing';

const mains: Array<{ service: string; start: (context: MainContext) => Promise<Stop> }> = [];
jest.mock('@trellis/kit/internal/lifecycle', () => ({
  runMain: (service: string, start: (context: MainContext) => Promise<Stop>) => void mains.push({ service, start }),
}));

function fakeBff(events: string[]): BffServer {
  return {
    start: async (port: number) => (events.push(`start ${port}`), `http://127.0.0.1:${port}`),
    stop: async () => void events.push('stop'),
  } as unknown as BffServer;
}

describe('serveBff', () => {
  beforeEach(() => (mains.length = 0));

  const run = async (config: Config, events: string[]) => {
    const made: Array<{ config: Config; state: unknown }> = [];
    serveBff('web-bff', ({ config: given, state }) => (made.push({ config: given, state }), fakeBff(events)), (c) => c.bff.webPort);
    expect(mains.map((m) => m.service)).toEqual(['web-bff']);
    const stop = await mains[0].start({ config, logger: createLogger({ service: 'web-bff', level: 'silent' }) } as MainContext);
    return { made, stop };
  };

  it('builds the BFF on a working state store and starts it on PORT', async () => {
    const events: string[] = [];
    const config = loadConfig({ PORT: '4555' });
    const { made, stop } = await run(config, events);
    expect(made).toHaveLength(1);
    expect(made[0].config).toBe(config);
    expect(made[0].state).toBeInstanceOf(InMemoryStateStore);
    const state = made[0].state as InMemoryStateStore;
    await state.set('k', 'v');
    expect(await state.get('k')).toBe('v');
    expect(events).toEqual(['start 4555']);
    await stop();
    expect(events).toEqual(['start 4555', 'stop']);
  });

  it("starts on the BFF's own default port when PORT is unset", async () => {
    const events: string[] = [];
    await run(loadConfig({ WEB_BFF_PORT: '4777' }), events);
    expect(events).toEqual(['start 4777']);
  });

  it('stops the BFF before closing the state store it used', async () => {
    const events: string[] = [];
    const { made, stop } = await run(loadConfig({}), events);
    const state = made[0].state as InMemoryStateStore;
    const close = state.close.bind(state);
    state.close = async () => {
      events.push('state closed');
      await close();
    };
    await stop();
    expect(events.slice(-2)).toEqual(['stop', 'state closed']);
  });
});
