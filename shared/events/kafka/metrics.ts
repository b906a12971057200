/**
 * What a Kafka bus sends, counted whichever client sends it (`trellis_kafka_*` on `/metrics`):
 * produce requests and the messages they carry, so messages per request shows what coalescing
 * gains and requests per saga what the broker pays for.
 */
import { Counter, type Registry } from 'prom-client';
import { singleMetric } from '../../metrics';

export class KafkaProduceMetrics {
  private readonly requests: Counter;
  private readonly messages: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = singleMetric(
      registry,
      'trellis_kafka_produce_requests_total',
      () => new Counter({ name: 'trellis_kafka_produce_requests_total', help: 'Produce requests sent to Kafka brokers (one per broker a batch goes to)', registers }),
    );
    this.messages = singleMetric(
      registry,
      'trellis_kafka_produced_messages_total',
      () => new Counter({ name: 'trellis_kafka_produced_messages_total', help: 'Messages sent to Kafka in produce requests', registers }),
    );
  }

  produceRequest(): void {
    this.requests.inc();
  }

  producedMessages(count: number): void {
    this.messages.inc(count);
  }
}
