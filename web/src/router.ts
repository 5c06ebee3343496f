import { signal } from '@preact/signals';

/** The console routes by the hash (`#/clients/12`): the service answers `/` only, deep links still work. */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p = '', q = ''] = raw.split('?');
  return { path: p.split('/').filter(Boolean), query: new URLSearchParams(q) };
}

export const route = signal<Route>(parse());
addEventListener('hashchange', () => (route.value = parse()));

export const go = (hash: string): void => {
  location.hash = hash;
};
