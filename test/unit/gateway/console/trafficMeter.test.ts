/** Requests and errors per second per subgraph, from the gateway's own metrics, over the newest samples. */
import { Registry } from 'prom-client';
import { GatewayMetrics } from '../../../../gateway/observability/metrics';
import { TrafficMeter } from '../../../../gateway/console';

describe('TrafficMeter', () => {
  it('turns the fetch and error counters into rates, counting refused calls as requests', async () => {
    const metrics = new GatewayMetrics(new Registry());
    let now = 0;
    const meter = new TrafficMeter({ metrics, rateSamples: 2, windowSamples: 3, now: () => now });
    await meter.sample();
    expect(meter.traffic()).toEqual([]);
    for (let i = 0; i < 10; i++) metrics.subgraphFetchDuration.observe({ subgraph: 'catalog', outcome: 'success' }, 0.01);
    now += 1000;
    await meter.sample();
    for (let i = 0; i < 4; i++) metrics.subgraphFetchDuration.observe({ subgraph: 'catalog', outcome: 'failure' }, 0.01);
    metrics.subgraphFetchErrors.inc({ subgraph: 'catalog', reason: 'connection_failed' }, 4);
    metrics.subgraphFetchErrors.inc({ subgraph: 'catalog', reason: 'breaker_open' }, 6);
    now += 1000;
    await meter.sample();
    const [catalog] = meter.traffic();
    expect(catalog).toMatchObject({ subgraph: 'catalog', requestsPerSecond: 10, errorsPerSecond: 5 });
    expect(catalog.history).toEqual([
      { at: 1000, requests: 10, errors: 0 },
      { at: 2000, requests: 10, errors: 10 },
    ]);
    // Only the newest rateSamples count (quiet seconds lower the rate), and the window keeps windowSamples.
    now += 2000;
    await meter.sample();
    const [later] = meter.traffic();
    expect(later.requestsPerSecond).toBeCloseTo(10 / 3);
    expect(later.history.map((sample) => sample.at)).toEqual([1000, 2000, 4000]);
    now += 1000;
    await meter.sample();
    expect(meter.traffic()[0].history.map((sample) => sample.at)).toEqual([2000, 4000, 5000]);
  });
});
