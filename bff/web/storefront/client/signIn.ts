/** Sign in as a development user: the BFF gets a token from the dev identity provider and opens a session. */
import { api, ApiError } from './api';
import { h } from './dom';

export function signInPage(onSignedIn: () => void): HTMLElement {
  const input = h('input', {
    id: 'user-id',
    name: 'user-id',
    value: 'u1',
    autocomplete: 'username',
    required: true,
    maxlength: 64,
  }) as HTMLInputElement;
  const status = h('p', { class: 'form-status', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Sign in') as HTMLButtonElement;
  return h(
    'section',
    { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Development sign-in: any user id; the example users are u1 (Ada), u2 (Grace) and u3 (Alan).',
    ),
    h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          submit.disabled = true;
          status.textContent = '';
          api.signIn(input.value.trim()).then(onSignedIn, (error: unknown) => {
            submit.disabled = false;
            status.textContent = error instanceof ApiError ? error.message : 'Sign-in failed; try again.';
          });
        },
      },
      h('label', { for: 'user-id' }, 'User id'),
      input,
      submit,
      status,
    ),
  );
}
