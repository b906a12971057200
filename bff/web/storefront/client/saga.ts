/**
 * An order's saga, live: the BFF's WebSocket sends every state the saga passes through; the page
 * shows each step's state now and keeps a log of every change it saw, in order.
 */
import type { SagaStatus } from './api';
import { h, money, replace } from './dom';

const STEP_LABELS: Record<string, string> = {
  reserveStock: 'Reserve stock',
  chargePayment: 'Charge payment',
  createOrder: 'Create order',
};
const TERMINAL = ['COMPLETED', 'COMPENSATED', 'FAILED'];

export function sagaPage(sagaId: string): { element: HTMLElement; close: () => void } {
  const headline = h('p', { class: 'saga-state', 'aria-live': 'polite', 'data-state': 'CONNECTING' }, 'Connecting…');
  const steps = h('ol', { class: 'steps', 'aria-label': 'Saga steps' });
  const log = h('ol', { class: 'saga-log', 'aria-label': 'Every change seen' });
  const outcome = h('div', { class: 'outcome', role: 'status' });
  const element = h(
    'div',
    {},
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '#/' }, 'Home'),
      ' / ',
      h('a', { href: '#/orders' }, 'Orders'),
      ' / saga',
    ),
    h('h1', {}, 'Your order, live'),
    h('p', { class: 'muted' }, 'Saga ', h('code', {}, sagaId)),
    headline,
    h('section', { class: 'card', 'aria-labelledby': 'steps-title' }, h('h2', { id: 'steps-title' }, 'Steps'), steps),
    outcome,
    h('section', { 'aria-labelledby': 'log-title' }, h('h2', { id: 'log-title' }, 'What happened'), log),
  );

  const compensated: string[] = [];
  let last = '';
  const show = (saga: SagaStatus) => {
    const signature = `${saga.state}|${saga.steps.map((s) => `${s.name}:${s.state}`).join(',')}`;
    if (signature === last) return;
    const previous = last;
    last = signature;
    headline.textContent = saga.state;
    headline.setAttribute('data-state', saga.state);
    headline.className = `saga-state ${saga.state.toLowerCase()}`;
    replace(
      steps,
      ...saga.steps.map((step) =>
        h(
          'li',
          { class: `step ${step.state.toLowerCase()}`, 'data-step': step.name, 'data-state': step.state },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          h('span', { class: 'step-name' }, STEP_LABELS[step.name] ?? step.name),
          h('span', { class: 'badge' }, step.state),
          step.error ? h('span', { class: 'step-error' }, step.error) : null,
        ),
      ),
    );
    const changed = saga.steps.filter((step) => !previous.includes(`${step.name}:${step.state}`));
    for (const step of changed)
      if (step.state === 'COMPENSATED' && !compensated.includes(step.name)) compensated.push(step.name);
    log.appendChild(
      h(
        'li',
        { 'data-state': saga.state, 'data-steps': saga.steps.map((s) => `${s.name}:${s.state}`).join(',') },
        h('strong', {}, saga.state),
        changed.length
          ? ` — ${changed.map((s) => `${STEP_LABELS[s.name] ?? s.name} ${s.state.toLowerCase()}`).join(', ')}`
          : '',
      ),
    );
    if (TERMINAL.includes(saga.state)) showOutcome(saga);
  };
  const showOutcome = (saga: SagaStatus) => {
    if (saga.state === 'COMPLETED') {
      replace(
        outcome,
        h(
          'p',
          { class: 'good' },
          `Order placed${saga.order ? `: ${money(saga.order.total)}, ${saga.order.status.toLowerCase()}` : ''}.`,
        ),
        h('a', { class: 'button', href: '#/orders' }, 'See your orders'),
      );
    } else {
      const reason = saga.steps.find((step) => step.error)?.error;
      replace(
        outcome,
        h(
          'p',
          { class: 'bad' },
          saga.state === 'COMPENSATED'
            ? `Not placed${reason ? ` (${reason})` : ''}: every finished step was undone.`
            : 'The order failed and could not be fully undone; support has the details.',
        ),
        compensated.length
          ? h(
              'p',
              { class: 'muted', 'data-compensated': compensated.join(',') },
              `Undone in reverse order: ${compensated.map((name) => STEP_LABELS[name] ?? name).join(' → ')}.`,
            )
          : null,
      );
    }
    outcome.setAttribute('data-final', saga.state);
  };

  const socket = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/orders/${encodeURIComponent(sagaId)}/progress`,
  );
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { type: string; saga?: SagaStatus; error?: { message: string } };
    if (message.type === 'progress' && message.saga) show(message.saga);
    if (message.type === 'error')
      replace(outcome, h('p', { class: 'bad' }, `Progress unavailable: ${message.error?.message ?? 'unknown error'}`));
  });
  socket.addEventListener('close', () => {
    if (!TERMINAL.includes(headline.getAttribute('data-state') ?? '') && !outcome.hasChildNodes())
      replace(outcome, h('p', { class: 'bad' }, 'Lost the live connection. Reload to see where the order stands.'));
  });
  return { element, close: () => socket.close(1000, 'page left') };
}
