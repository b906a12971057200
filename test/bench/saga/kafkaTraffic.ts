/**
 * What the services asked of Kafka, from the `trellis_kafka_*` counters on each one's `/metrics`:
 * requests by API and messages produced. Read before and after a level; the difference is that
 * level's traffic.
 */
const SERVICES = [
  { name: 'users', offset: 1 },
  { name: 'catalog', offset: 2 },
  { name: 'orders', offset: 3 },
  { name: 'payments', offset: 4 },
  { name: 'sagas', offset: 5 },
];

export interface KafkaTraffic {
  /** Requests by API (Produce, Fetch, OffsetCommit, Heartbeat...), all services together. */
  requests: Map<string, number>;
  messages: number;
}

const REQUESTS = /^trellis_kafka_requests_total\{(?:.*,)?api="([^"]+)"(?:,.*)?\} (\S+)$/;
const MESSAGES = /^trellis_kafka_produced_messages_total(?:\{.*\})? (\S+)$/;

/** What every service has sent so far; undefined when a service cannot be read or none has a Kafka bus (never read as 0). */
export async function readKafkaTraffic(base: number): Promise<KafkaTraffic | undefined> {
  const totals: KafkaTraffic = { requests: new Map(), messages: 0 };
  let counted = 0;
  for (const { offset } of SERVICES) {
    const response = await fetch(`http://127.0.0.1:${base + offset}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (!response?.ok) return undefined;
    const traffic = parseKafkaTraffic(await response.text());
    // Absent where the service has no Kafka bus (embedded backends, or users, which takes no part in sagas).
    if (!traffic) continue;
    for (const [api, count] of traffic.requests) totals.requests.set(api, (totals.requests.get(api) ?? 0) + count);
    totals.messages += traffic.messages;
    counted++;
  }
  return counted > 0 ? totals : undefined;
}

/** One service's counters from its Prometheus text; undefined when it has no Kafka bus (no produced-messages counter). */
export function parseKafkaTraffic(text: string): KafkaTraffic | undefined {
  const traffic: KafkaTraffic = { requests: new Map(), messages: 0 };
  let seen = false;
  for (const line of text.split('\n')) {
    const request = REQUESTS.exec(line);
    if (request) traffic.requests.set(request[1], (traffic.requests.get(request[1]) ?? 0) + Number(request[2]));
    const messages = MESSAGES.exec(line);
    if (messages) {
      traffic.messages += Number(messages[1]);
      seen = true;
    }
  }
  return seen ? traffic : undefined;
}

export function trafficDelta(before: KafkaTraffic | undefined, after: KafkaTraffic | undefined): KafkaTraffic | undefined {
  if (!before || !after) return undefined;
  const requests = new Map([...after.requests].map(([api, count]) => [api, count - (before.requests.get(api) ?? 0)]));
  return { requests, messages: after.messages - before.messages };
}
