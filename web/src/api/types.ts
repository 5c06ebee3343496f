import type { paths } from './schema.js';

/** The JSON an operation answers with (`Answer<'/api/clients/{id}', 'get'>`), from schema.d.ts. */
export type Answer<P extends keyof paths, M extends keyof paths[P], S extends number = 200> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;
