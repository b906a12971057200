/**
 * The console page: asks `/admin/console.json` for a snapshot every second and draws it. The
 * admin token (ADMIN_TOKEN), when the listener needs one, comes from `#token=` in the address or
 * the form the page shows on a 401, and is kept for the tab only (sessionStorage).
 */
import './console.css';
import type { ConsoleSnapshot } from '../snapshot';

const REFRESH_MS = 1000;
const TOKEN_KEY = 'trellis.adminToken';

type SubgraphView = ConsoleSnapshot['subgraphs'][number];
type SagaOverview = Extract<ConsoleSnapshot['sagas'], { inFlight: unknown }>;
type SagaSummary = SagaOverview['inFlight'][number];

function takeTokenFromAddress(): void {
  const match = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname);
}

/** An element with attributes and children; text is always set as text, never parsed as HTML. */
function h(tag: string, attributes: Record<string, string> = {}, ...children: Array<Node | string | null>): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child !== null) element.append(child);
  return element;
}

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString() : '—');
const rate = (value: number) => (value >= 10 ? value.toFixed(0) : value.toFixed(1));

function sparkline(points: number[], kind: string): SVGElement {
  const width = 120;
  const height = 24;
  const max = Math.max(1, ...points);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', `spark ${kind}`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  const step = points.length > 1 ? width / (points.length - 1) : width;
  line.setAttribute('points', points.map((value, index) => `${(index * step).toFixed(1)},${(height - (value / max) * (height - 2) - 1).toFixed(1)}`).join(' '));
  svg.append(line);
  return svg;
}

function subgraphRow(subgraph: SubgraphView): HTMLElement {
  const breaker = subgraph.breaker?.state ?? 'unused';
  const instances = h(
    'ul',
    { class: 'instances' },
    ...subgraph.instances.map((instance) => {
      const health = instance.ejected ? 'ejected' : instance.healthy ? 'healthy' : 'unhealthy';
      return h('li', { 'data-instance': instance.id, 'data-health': health, class: health }, h('span', { class: 'dot' }), `${instance.url.replace(/^https?:\/\//, '')} `, h('em', {}, health));
    }),
  );
  const transitions = h('ol', { class: 'transitions' }, ...(subgraph.breaker?.transitions ?? []).slice(0, 5).map((transition) => h('li', { class: transition.to }, `${time(transition.at)} → ${transition.to.replace('_', '-')}`)));
  const traffic = subgraph.traffic;
  return h(
    'tr',
    { 'data-subgraph': subgraph.name },
    h('th', { scope: 'row' }, subgraph.name, subgraph.composed ? null : h('small', { class: 'warn' }, ' not composed')),
    h('td', {}, instances),
    h('td', {}, h('span', { class: `badge ${breaker}`, 'data-field': 'breaker' }, breaker.replace('_', '-')), transitions),
    h(
      'td',
      { class: 'num' },
      h('span', { 'data-field': 'requests' }, traffic ? rate(traffic.requestsPerSecond) : '—'),
      traffic ? sparkline(traffic.history.map((sample) => sample.requests), 'requests') : null,
    ),
    h(
      'td',
      { class: 'num' },
      h('span', { 'data-field': 'errors', class: traffic && traffic.errorsPerSecond > 0 ? 'bad' : '' }, traffic ? rate(traffic.errorsPerSecond) : '—'),
      traffic ? sparkline(traffic.history.map((sample) => sample.errors), 'errors') : null,
    ),
  );
}

function parkedItem(parked: SagaOverview['parked'][number]): HTMLElement {
  const version = parked.version ? ` version ${parked.versionLabel ?? parked.version.slice(0, 12)}` : '';
  const held = parked.heldReplies > 0 ? `, ${parked.heldReplies} replies held` : '';
  return h(
    'li',
    { 'data-saga': parked.sagaId, class: 'parked' },
    h('code', {}, parked.sagaId.slice(0, 8)),
    ` ${parked.definition ?? '?'}${version}: ${parked.reason}${held}`,
    h('small', {}, ` since ${time(new Date(parked.parkedAt).toISOString())}`),
  );
}

function sagaItem(saga: SagaSummary): HTMLElement {
  return h(
    'li',
    { 'data-saga': saga.id, class: saga.state },
    h('div', {}, h('code', {}, saga.id.slice(0, 8)), ` ${saga.definition} `, h('span', { class: `badge ${saga.state}` }, saga.state), h('small', {}, ` ${time(saga.updatedAt)}`)),
    h('ol', { class: 'steps' }, ...saga.steps.map((step) => h('li', { class: step.state, title: step.error ?? '' }, `${step.name}: ${step.state}${step.attempts > 1 ? ` (${step.attempts} attempts)` : ''}`))),
  );
}

function section(title: string, id: string, ...content: Array<Node | null>): HTMLElement {
  return h('section', { id }, h('h2', {}, title), ...content);
}

/** With one published supergraph (Consul): who composed it, whether this gateway composes, and whether KV answers. */
function published(publication: ConsoleSnapshot['supergraph']['publication']): HTMLElement[] {
  if (!publication) return [];
  const kv = publication.reachable ? `read ${time(publication.lastReadAt)}` : `unreachable for ${Math.round(publication.staleSeconds)} s: serving the last good supergraph`;
  return [
    h('dt', {}, 'published by'),
    h('dd', { 'data-field': 'published-by' }, `${publication.publishedBy ?? '—'}${publication.composer ? ' (this gateway composes)' : ''}`),
    h('dt', {}, 'Consul KV'),
    h('dd', { class: publication.reachable ? '' : 'error' }, kv),
  ];
}

/** The entity cache: its mode, its change feed, and per type what it served, refetched, dropped and (shadow) found different. */
function cachePanel(cache: ConsoleSnapshot['cache']): Array<Node | null> {
  const summary = h(
    'dl',
    { class: 'summary', id: 'cache' },
    h('dt', {}, 'mode'),
    h('dd', { 'data-field': 'cache-mode' }, cache.mode),
    h('dt', {}, 'change feed'),
    h('dd', { 'data-field': 'cache-feed', class: cache.feed === 'down' ? 'error' : '' }, cache.feed === 'down' ? 'down: TTLs shortened' : cache.feed),
  );
  const columns = ['type', 'hits', 'misses', 'stale', 'invalidations', 'shadow compared', 'shadow differences'];
  const table = h(
    'table',
    { id: 'cache-types' },
    h('thead', {}, h('tr', {}, ...columns.map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      ...cache.types.map((row) =>
        h(
          'tr',
          { 'data-type': row.type },
          h('th', { scope: 'row' }, row.type),
          ...(['hits', 'misses', 'stale', 'invalidations', 'shadowComparisons', 'shadowDifferences'] as const).map((field) =>
            h('td', { class: 'num' }, h('span', { 'data-field': field, class: field === 'shadowDifferences' && row[field] > 0 ? 'bad' : '' }, String(row[field]))),
          ),
        ),
      ),
    ),
  );
  const differences = cache.differences.length
    ? h('ul', { id: 'cache-differences', class: 'error' }, ...cache.differences.slice(0, 10).map((entry) => h('li', {}, `${entry.type}.${entry.field}: ${entry.count} differences`)))
    : null;
  return [summary, cache.types.length ? table : h('p', {}, h('em', {}, 'nothing cached yet')), differences];
}

function render(snapshot: ConsoleSnapshot): HTMLElement {
  const { supergraph, subgraphs, sagas } = snapshot;
  const summary = h(
    'dl',
    { class: 'summary', id: 'supergraph' },
    h('dt', {}, 'version'),
    h('dd', { 'data-field': 'version' }, String(supergraph.version)),
    h('dt', {}, 'hash'),
    h('dd', {}, h('code', {}, supergraph.hash?.slice(0, 12) ?? 'none yet')),
    h('dt', {}, 'composed'),
    h('dd', {}, time(supergraph.composedAt)),
    h('dt', {}, 'source'),
    h('dd', {}, supergraph.source),
    h('dt', {}, 'failed compositions'),
    h('dd', {}, String(supergraph.compositionFailures)),
    ...published(supergraph.publication),
  );
  const lastError = supergraph.lastError ? h('p', { class: 'error', id: 'last-error' }, `last error at ${time(supergraph.lastError.at)}: ${supergraph.lastError.message}`) : null;
  const refused = [...supergraph.refused.map((r) => `${r.name}: ${r.errors.join('; ')}`), ...supergraph.untrusted.map((u) => `${u.name} at ${u.url}: ${u.reason}`)];
  const table = h(
    'table',
    { id: 'subgraphs' },
    h('thead', {}, h('tr', {}, ...['subgraph', 'instances', 'breaker (recent transitions)', 'requests/s', 'errors/s'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, ...subgraphs.map(subgraphRow)),
  );
  const compositions = h(
    'ol',
    { class: 'compositions' },
    ...supergraph.compositions.slice(0, 10).map((entry) =>
      h('li', { class: entry.outcome }, `${time(entry.at)} v${entry.version} ${entry.outcome}`, entry.error ? h('small', {}, ` ${entry.error}`) : h('small', {}, ` ${entry.subgraphs.join(', ')}`)),
    ),
  );
  const sagaContent =
    'error' in sagas
      ? h('p', { class: 'error' }, sagas.error)
      : h(
          'div',
          { class: 'sagas' },
          h('h3', {}, sagas.inFlightTotal > sagas.inFlight.length ? `in flight (${sagas.inFlightTotal}, the next ${sagas.inFlight.length} due shown)` : `in flight (${sagas.inFlightTotal})`),
          h('ul', { id: 'sagas-in-flight' }, ...sagas.inFlight.map(sagaItem)),
          h('h3', {}, 'recently finished'),
          h('ul', { id: 'sagas-finished' }, ...sagas.finished.map(sagaItem)),
          ...(sagas.parkedTotal > 0
            ? [
                h('h3', { class: 'error' }, `parked (${sagas.parkedTotal}): no running orchestrator can drive them`),
                h('ul', { id: 'sagas-parked' }, ...sagas.parked.map(parkedItem)),
              ]
            : []),
        );
  return h(
    'main',
    {},
    h('header', {}, h('h1', {}, 'Trellis console'), h('span', { id: 'updated' }, `updated ${time(snapshot.at)}`)),
    section('Supergraph', 'supergraph-section', summary, lastError, refused.length ? h('ul', { class: 'error' }, ...refused.map((line) => h('li', {}, line))) : null),
    section('Subgraphs', 'subgraphs-section', table),
    section('Compositions', 'compositions-section', compositions),
    section('Sagas', 'sagas-section', sagaContent),
    section('Entity cache', 'cache-section', ...cachePanel(snapshot.cache)),
  );
}

function askForToken(root: HTMLElement, message: string): void {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'ADMIN_TOKEN', autocomplete: 'off' }) as HTMLInputElement;
  const form = h('form', { id: 'token-form' }, h('p', {}, message), input, h('button', { type: 'submit' }, 'Open'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value);
    void refresh(root);
  });
  root.replaceChildren(form);
}

let waitingForToken = false;

async function refresh(root: HTMLElement): Promise<void> {
  waitingForToken = false;
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const response = await fetch('/admin/console.json', { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
    if (response.status === 401) {
      waitingForToken = true;
      askForToken(root, token ? 'That token was refused.' : 'This admin listener needs its ADMIN_TOKEN.');
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    root.replaceChildren(render((await response.json()) as ConsoleSnapshot));
  } catch (error) {
    const banner = document.getElementById('offline') ?? h('p', { id: 'offline', class: 'error' });
    banner.textContent = `gateway unreachable (${(error as Error).message}); retrying`;
    if (!banner.isConnected) root.prepend(banner);
  }
}

takeTokenFromAddress();
const root = document.getElementById('root')!;
void refresh(root);
setInterval(() => {
  if (!waitingForToken) void refresh(root);
}, REFRESH_MS);
