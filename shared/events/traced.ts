/**
 * Tracing around any EventBus: a producer span per published message whose context travels in the
 * message's headers (W3C propagators), and a consumer span around each handled message that
 * continues it. A message that already carries a trace (a saga command with its saga's) is produced
 * in that trace, so one saga is one trace whichever process or timer sends its messages.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { extractTrace, failSpan, injectTrace, inSpan, startSpan, type Span } from '../telemetry/spans';
import type { EventBus, OutgoingMessage } from './types';

const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  key: 'messaging.kafka.message.key',
  partition: 'messaging.destination.partition.id',
  offset: 'messaging.kafka.offset',
  group: 'messaging.consumer.group.name',
} as const;

/** `system`: what `messaging.system` says (`kafka`, or `trellis` for the embedded bus). */
export function tracedEventBus(bus: EventBus, system: string): EventBus {
  return {
    ensureTopics: (topics) => bus.ensureTopics(topics),
    close: () => bus.close(),
    async publish(topic, messages) {
      const list = Array.isArray(messages) ? messages : [messages];
      const spans: Span[] = [];
      const traced = list.map((message): OutgoingMessage => {
        const parent = message.headers?.traceparent ? extractTrace(message.headers) : context.active();
        const span = startSpan(`send ${topic}`, {
          kind: SpanKind.PRODUCER,
          parent,
          attributes: {
            [ATTR.system]: system,
            [ATTR.destination]: topic,
            [ATTR.operationType]: 'send',
            [ATTR.operationName]: 'send',
            ...(message.key ? { [ATTR.key]: message.key } : {}),
          },
        });
        spans.push(span);
        // Tracing off: the propagator writes nothing and the message keeps the headers it had.
        return { ...message, headers: injectTrace({ ...message.headers }, trace.setSpan(parent, span)) };
      });
      try {
        await bus.publish(topic, traced);
      } catch (error) {
        for (const span of spans) failSpan(span, error);
        throw error;
      } finally {
        for (const span of spans) span.end();
      }
    },
    subscribe(options) {
      return bus.subscribe({
        ...options,
        handler: (message) =>
          inSpan(
            `process ${message.topic}`,
            {
              kind: SpanKind.CONSUMER,
              parent: extractTrace(message.headers),
              attributes: {
                [ATTR.system]: system,
                [ATTR.destination]: message.topic,
                [ATTR.operationType]: 'process',
                [ATTR.operationName]: 'process',
                [ATTR.group]: options.groupId,
                [ATTR.partition]: String(message.partition),
                [ATTR.offset]: Number(message.offset),
                ...(message.key ? { [ATTR.key]: message.key } : {}),
              },
            },
            () => options.handler(message),
          ),
      });
    },
  };
}
