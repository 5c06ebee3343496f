import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';
import { session, sessionEnded } from './session.js';

/** The one API client: typed by the service's own OpenAPI document (schema.d.ts, generated). */
export const api = createClient<paths>({ baseUrl: location.origin });

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.value?.token;
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.endsWith('/api/auth/login')) sessionEnded();
    return response;
  },
};
api.use(auth);

/** An API error as the service words it (src/errors.ts: a stable code and a message). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The data of an openapi-fetch answer, or an ApiError with the service's message. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const e = (result.error ?? {}) as { code?: string; message?: string };
    throw new ApiError(result.response.status, e.code ?? 'HTTP', e.message ?? `HTTP ${result.response.status}`);
  }
  return result.data as T;
}
