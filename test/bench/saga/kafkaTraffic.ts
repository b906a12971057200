/**
 * Produce requests and messages each service sent to Kafka, from the `trellis_kafka_*` counters on
 * its `/metrics`: read before and after a level, the difference is that level's traffic.
 */
const SERVICES = [
  { name: 'users', offset: 1 },
  { name: 'catalog', offset: 2 },
  { name: 'orders', offset: 3 },
  { name: 'payments', offset: 4 },
  { name: 'sagas', offset: 5 },
];

export interface ProduceCounts {
  requests: number;
  messages: number;
}

/** The counter's value, or undefined when the service does not expose it (never read as 0). */
function counter(text: string, name: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{`) || entry.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** What every service has produced so far; undefined when one cannot be read (then the level shows no figure). */
export async function readProduceCounts(base: number): Promise<ProduceCounts | undefined> {
  const totals: ProduceCounts = { requests: 0, messages: 0 };
  let counted = 0;
  for (const { offset } of SERVICES) {
    const response = await fetch(`http://127.0.0.1:${base + offset}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (!response?.ok) return undefined;
    const text = await response.text();
    const requests = counter(text, 'trellis_kafka_produce_requests_total');
    const messages = counter(text, 'trellis_kafka_produced_messages_total');
    // Absent where the service has no Kafka bus (embedded backends, or users, which takes no part in sagas).
    if (requests === undefined || messages === undefined) continue;
    totals.requests += requests;
    totals.messages += messages;
    counted++;
  }
  return counted > 0 ? totals : undefined;
}

export function produceDelta(before: ProduceCounts | undefined, after: ProduceCounts | undefined): ProduceCounts | undefined {
  if (!before || !after) return undefined;
  return { requests: after.requests - before.requests, messages: after.messages - before.messages };
}
