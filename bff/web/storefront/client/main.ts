/** The storefront: a hash router over the pages, the header with who is signed in, and errors shown in place. */
import { api, ApiError, type Session } from './api';
import { h, replace } from './dom';
import { homePage, ordersPage, productPage } from './pages';
import { sagaPage } from './saga';
import { signInPage } from './signIn';

const main = document.getElementById('main') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;
let session: Session = { user: null };
let leave: (() => void) | undefined;

async function refreshSession(): Promise<void> {
  session = await api.session();
  replace(
    account,
    session.user
      ? h(
          'span',
          {},
          h('span', { class: 'who', 'data-user': session.user.id }, `Signed in as ${session.user.id}`),
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => void api.signOut().then(refreshSession).then(route) },
            'Sign out',
          ),
        )
      : h('a', { href: '#/signin' }, 'Sign in'),
  );
}

let latest = 0;

/** Renders the page the hash names; a page still loading when another is asked for is dropped, so the last one asked wins. */
async function route(): Promise<void> {
  leave?.();
  leave = undefined;
  const mine = ++latest;
  const show = (...content: Node[]) => {
    if (mine === latest) replace(main, ...content);
  };
  const [, page = '', id = ''] = location.hash.replace(/^#/, '').split('/');
  main.setAttribute('aria-busy', 'true');
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    link.toggleAttribute('aria-current', link.getAttribute('data-page') === (page || 'home'));
  }
  try {
    if (page === 'signin') show(signInPage(() => void refreshSession().then(() => (location.hash = '#/'))));
    else if (page === 'product') {
      const product = await productPage(
        decodeURIComponent(id),
        session,
        (sagaId) => (location.hash = `#/saga/${sagaId}`),
      );
      if (mine === latest) leave = product.close;
      else product.close();
      show(product.element);
    } else if (page === 'orders')
      show(session.user ? await ordersPage() : signInPage(() => void refreshSession().then(route)));
    else if (page === 'saga') {
      const saga = sagaPage(decodeURIComponent(id));
      leave = saga.close;
      show(saga.element);
    } else show(await homePage(session));
  } catch (error) {
    show(
      h(
        'section',
        { class: 'card error', role: 'alert' },
        h('h1', {}, error instanceof ApiError && error.status === 404 ? 'Not found' : 'Unavailable right now'),
        h('p', {}, error instanceof Error ? error.message : String(error)),
        h('a', { href: '#/' }, 'Back home'),
      ),
    );
  } finally {
    if (mine === latest) {
      main.removeAttribute('aria-busy');
      main.focus({ preventScroll: true });
    }
  }
}

window.addEventListener('hashchange', () => void route());
void refreshSession().then(route);
