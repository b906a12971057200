/**
 * What a Kafka bus asks of the brokers, counted whichever client sends it (`trellis_kafka_*` on
 * `/metrics`): requests by API (Produce, Fetch, OffsetCommit, Heartbeat...) and the messages
 * produced, so messages per produce request shows what coalescing gains and requests per saga
 * what the broker pays for.
 */
import { Counter, type Registry } from 'prom-client';
import { singleMetric } from '../../metrics';

export class KafkaMetrics {
  private readonly requests: Counter<'api'>;
  private readonly messages: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = singleMetric(
      registry,
      'trellis_kafka_requests_total',
      () => new Counter({ name: 'trellis_kafka_requests_total', help: 'Requests sent to Kafka brokers, by API (Produce, Fetch, OffsetCommit...)', labelNames: ['api'], registers }),
    );
    this.messages = singleMetric(
      registry,
      'trellis_kafka_produced_messages_total',
      () => new Counter({ name: 'trellis_kafka_produced_messages_total', help: 'Messages acknowledged by Kafka brokers in produce requests', registers }),
    );
  }

  request(api: string): void {
    this.requests.inc({ api });
  }

  producedMessages(count: number): void {
    this.messages.inc(count);
  }
}
