import type { RouteOptions } from 'fastify';
import { ErrorBody } from '../errors.js';

type Responses = Record<string, unknown>;

/**
 * onRoute hook: the answers every route can give because of app-wide machinery, documented where
 * the route did not say so itself. A route with an input schema can get 400 (validation, the NUL
 * guard, an over-long path parameter); a route with any security (the document's default bearer,
 * or its own) can get 401, and 503 while the database is unreachable; `security: []` marks a public one. So a new route is documented right the day it is added.
 */
export function documentCommonErrors(route: RouteOptions): void {
  const schema = route.schema as (RouteOptions['schema'] & { security?: unknown[]; hide?: boolean }) | undefined;
  if (!schema || schema.hide) return;
  const response = (schema.response ?? {}) as Responses;
  const hasInput = Boolean(schema.params || schema.querystring || schema.body);
  // A route that validates nothing itself (`validatorCompiler` accepting all, /pbx/route) never answers 400.
  if (hasInput && !route.validatorCompiler && !response[400]) response[400] = ErrorBody;
  if ((!schema.security || schema.security.length > 0) && !response[401]) response[401] = ErrorBody;
  // Signing in reads the database, so a signed route can meet a database outage: 503 with
  // Retry-After (errors.ts, DATABASE_UNAVAILABLE).
  if ((!schema.security || schema.security.length > 0) && !response[503]) response[503] = ErrorBody;
  schema.response = response;
}
