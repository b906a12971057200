/** A gateway's side of the published supergraph (publishedSupergraph.ts), over a scripted publication and a driven clock. */
import type { PublicationListener, PublishedSupergraph, SupergraphPublication } from '@trellis/kit/internal';
import { PublishedSupergraphMember } from '../../../../gateway/supergraph/publishedSupergraph';
import { recordingLogger } from '../../../support/recordingLogger';

function scriptedPublication() {
  let listener: PublicationListener | undefined;
  let onLeading: ((leading: boolean) => void) | undefined;
  const published: PublishedSupergraph[] = [];
  let holds = false;
  const publication: SupergraphPublication = {
    campaign: async (_holder, leading) => ((onLeading = leading), { stop: async () => undefined }),
    publish: async (supergraph) => (holds ? (published.push(supergraph), true) : false),
    follow: async (heard) => ((listener = heard), { stop: async () => undefined }),
  };
  return {
    publication,
    published,
    elect: (leading: boolean) => ((holds = leading), onLeading!(leading)),
    listener: () => listener!,
  };
}

describe('PublishedSupergraphMember', () => {
  const supergraph = { hash: 'a'.repeat(64), sdl: 'schema { query: Query }', composedAt: '2026-01-01T00:00:00.000Z', subgraphs: ['users'] };

  it('says whether it composes, who published what it serves, and how stale it is while the store does not answer', async () => {
    let now = Date.parse('2026-01-01T00:00:10.000Z');
    const script = scriptedPublication();
    const heard: Array<PublishedSupergraph | boolean> = [];
    const { logger, lines } = recordingLogger();
    const member = new PublishedSupergraphMember({ publication: script.publication, logger, holder: 'gw-1', now: () => now, onLeading: (leading) => heard.push(leading), onPublished: (p) => heard.push(p) });
    await member.start();
    expect(member.status()).toEqual({ holder: 'gw-1', composer: false, publishedBy: null, lastReadAt: null, reachable: true });

    expect(await member.publish(supergraph)).toBe(false);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', hash: supergraph.hash }));
    script.elect(true);
    expect(member.isComposer).toBe(true);
    expect(await member.publish(supergraph)).toBe(true);
    expect(script.published).toEqual([{ ...supergraph, by: 'gw-1' }]);

    script.listener().onRead();
    script.listener().onPublished({ ...supergraph, by: 'gw-2' });
    expect(member.status()).toEqual({ holder: 'gw-1', composer: true, publishedBy: 'gw-2', lastReadAt: '2026-01-01T00:00:10.000Z', reachable: true });
    expect(member.staleSeconds()).toBe(0);

    script.listener().onUnreachable();
    now += 7500;
    expect(member.status().reachable).toBe(false);
    expect(member.staleSeconds()).toBe(7.5);
    script.listener().onRead();
    expect(member.staleSeconds()).toBe(0);
    expect(member.status().lastReadAt).toBe('2026-01-01T00:00:17.500Z');

    script.elect(false);
    expect(heard).toEqual([true, { ...supergraph, by: 'gw-2' }, false]);
    await member.stop();
    expect(member.isComposer).toBe(false);
  });
});
