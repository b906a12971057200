/**
 * The README's "What clients speak": every Accept header it tells a client to send is one the
 * gateway's negotiation (shared/http/graphqlOverHttp.ts) answers as the row says, with every
 * multipart format the gateway offers; the end-to-end behaviour of each row is in the tests its
 * clients.md section names (defer.test.ts, multipartSubscriptions.test.ts, graphqlOverHttp.test.ts).
 */
import express, { type Request } from 'express';
import { acceptedAnswers, answerFor, MultipartSpec } from '@trellis/kit/internal';
import { readDoc } from '../../support/markdown';

const readme = readDoc('README.md');
const start = readme.indexOf('## What clients speak');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const OFFERED = Object.values(MultipartSpec);

/** How the gateway answers an operation of this kind to a request with this Accept. */
function answer(accept: string, operation: { isSubscription?: boolean; isDeferred?: boolean }) {
  // express's own request, so `accepts` is the negotiation the gateway runs.
  const req = Object.assign(Object.create(express.request) as Request, { headers: { accept } });
  return answerFor(acceptedAnswers(req, OFFERED), { isSubscription: operation.isSubscription ?? false, isDeferred: operation.isDeferred ?? false });
}

/** The Accept headers a row shows, in backticks after `Accept: `. */
const acceptsIn = (row: string) => [...row.matchAll(/`(?:Accept: )?((?:application|multipart|text)\/[^`]+)`/g)].map((match) => match[1]!);
const row = (name: string) => section.split('\n').find((line) => line.startsWith(`| ${name}`)) ?? '';

describe("the README's protocols", () => {
  it('names every multipart format the gateway offers', () => {
    for (const spec of OFFERED) expect(section).toContain(`multipart/mixed;${spec}`);
  });

  it('answers queries in either JSON type it names', () => {
    expect(acceptsIn(row('queries and mutations'))).toEqual(['application/graphql-response+json', 'application/json']);
    for (const accept of acceptsIn(row('queries and mutations'))) expect(answer(accept, {})).toEqual({ kind: 'single', mediaType: accept });
  });

  it('streams @defer in each format it names, and answers it whole without one', () => {
    const formats = acceptsIn(row('`@defer`'));
    expect(formats).toEqual([`multipart/mixed;${MultipartSpec.DEFER_20220824}`, `multipart/mixed;${MultipartSpec.INCREMENTAL_V0_2}`]);
    expect(formats.map((accept) => answer(`${accept}, application/json`, { isDeferred: true }))).toEqual([
      { kind: 'multipart', spec: MultipartSpec.DEFER_20220824 },
      { kind: 'multipart', spec: MultipartSpec.INCREMENTAL_V0_2 },
    ]);
    expect(answer('application/json', { isDeferred: true })).toEqual({ kind: 'single', mediaType: 'application/json' });
  });

  it('streams a subscription over the multipart header it names', () => {
    const headers = acceptsIn(row('subscriptions'));
    expect(headers).toEqual(['text/event-stream', `multipart/mixed;${MultipartSpec.SUBSCRIPTION}`]);
    expect(answer(headers[1]!, { isSubscription: true })).toEqual({ kind: 'multipart', spec: MultipartSpec.SUBSCRIPTION });
  });
});
