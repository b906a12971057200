/** A stand-in gateway on loopback for BFF tests: answers from a script, records every request, or hangs. */
import type { IncomingHttpHeaders } from 'node:http';
import { serveOnLoopback, type Loopback } from './loopback';

export interface ScriptedAnswer {
  status?: number;
  body: unknown;
}

export interface ScriptedGateway extends Loopback {
  /** `GATEWAY_URL` for a BFF. */
  graphqlUrl: string;
  requests: Array<{ headers: IncomingHttpHeaders; body: { query: string; variables?: Record<string, unknown> } }>;
  /** Answers given in order, one per request; the last one repeats. */
  answer(...answers: ScriptedAnswer[]): void;
  /** Accepts requests and never answers them. */
  hang(): void;
}

export async function startScriptedGateway(): Promise<ScriptedGateway> {
  let script: ScriptedAnswer[] = [{ body: { data: null, errors: [{ message: 'no script' }] } }];
  let hanging = false;
  const requests: ScriptedGateway['requests'] = [];
  const loopback = await serveOnLoopback((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: JSON.parse(text) as ScriptedGateway['requests'][number]['body'] });
      if (hanging) return;
      const next = script.length > 1 ? script.shift()! : script[0];
      res.writeHead(next.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(next.body));
    });
  });
  return {
    ...loopback,
    graphqlUrl: `${loopback.url}/graphql`,
    requests,
    answer: (...answers) => {
      hanging = false;
      script = answers;
    },
    hang: () => void (hanging = true),
  };
}
