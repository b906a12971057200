/** The saga bench's Kafka table: counters read from a service's /metrics, per-level differences, per-saga figures. */
import { parseKafkaTraffic, trafficDelta } from '../../../bench/saga/kafkaTraffic';
import { renderKafkaTable, type SagaRow } from '../../../bench/saga/table';

const metrics = (produce: number, fetch: number, messages: number) =>
  [
    '# HELP trellis_kafka_requests_total Requests sent to Kafka brokers, by API (Produce, Fetch, OffsetCommit...)',
    '# TYPE trellis_kafka_requests_total counter',
    `trellis_kafka_requests_total{api="Produce",service="sagas"} ${produce}`,
    `trellis_kafka_requests_total{service="sagas",api="Fetch"} ${fetch}`,
    'trellis_kafka_requests_total{api="Metadata",service="sagas"} 2',
    '# TYPE trellis_kafka_produced_messages_total counter',
    `trellis_kafka_produced_messages_total{service="sagas"} ${messages}`,
    'trellis_process_cpu_seconds_total{service="sagas"} 12.5',
  ].join('\n');

describe('saga bench Kafka traffic', () => {
  it('reads requests by API and produced messages, and none from a service without a Kafka bus (not zeros)', () => {
    const traffic = parseKafkaTraffic(metrics(40, 25, 120));
    expect(traffic).toEqual({ requests: new Map([['Produce', 40], ['Fetch', 25], ['Metadata', 2]]), messages: 120 });
    expect(parseKafkaTraffic('trellis_process_cpu_seconds_total{service="users"} 1')).toBeUndefined();
  });

  it('gives a level the difference of its counters, and nothing when either read failed', () => {
    const delta = trafficDelta(parseKafkaTraffic(metrics(40, 25, 120)), parseKafkaTraffic(metrics(100, 55, 300)));
    expect(delta).toEqual({ requests: new Map([['Produce', 60], ['Fetch', 30], ['Metadata', 0]]), messages: 180 });
    expect(trafficDelta(undefined, parseKafkaTraffic(metrics(1, 1, 1)))).toBeUndefined();
  });

  it('shows requests, messages and broker CPU per saga, with the machine load, and a dash where nothing was read', () => {
    const outcomes = Array.from({ length: 10 }, () => ({ state: 'COMPLETED', latencyMs: 1 }));
    const row = (kafka: SagaRow['kafka']): SagaRow => ({
      backends: 'real',
      label: 'real',
      sagas: 10,
      concurrency: 20,
      load: { outcomes, errors: [], wallMs: 1000 },
      cpu: new Map([['kafka', 55]]),
      kafka,
      loadAverage: 3.25,
    });
    const table = renderKafkaTable([row({ requests: new Map([['Produce', 30], ['Fetch', 20], ['OffsetCommit', 15], ['Metadata', 5]]), messages: 60 }), row(undefined)]);
    const [, , measured, unread] = table.split('\n');
    expect(measured.split('|').map((cell) => cell.trim()).slice(1, -1)).toEqual(['real', '20', '3.00', '2.00', '1.50', '0.00', '0.50', '7.00', '6.00', '2.00', '5.50', '3.3']);
    expect(unread.split('|').map((cell) => cell.trim()).slice(1, -1)).toEqual(['real', '20', '–', '–', '–', '–', '–', '–', '–', '–', '5.50', '3.3']);
  });
});
