import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { viewerOf } from '../auth/auth.plugin.js';
import { ErrorBody } from '../errors.js';
import type { Settings } from './settings.service.js';

const SettingsBody = Type.Object(
  {
    maskPhonesInLists: Type.Boolean({ description: "managers and assistants see clients' numbers masked in lists and searches (`+7 916 ***-**-67`); full on a card they open" }),
    suspendOnScraping: Type.Boolean({ description: 'past the read budget, also disable the account and end its sessions' }),
  },
  { examples: [{ maskPhonesInLists: true, suspendOnScraping: false }] },
);
const PatchSettingsBody = Type.Partial(SettingsBody, { minProperties: 1, additionalProperties: false });

const tags = ['settings'];

/** The director's switches for protecting the base. Until a director sets them, the configuration's values apply. */
export const settingsRoutes: FastifyPluginAsyncTypebox<{ settings: Settings }> = async (app, opts) => {
  app.addHook('preHandler', app.requireRole('director'));

  app.get(
    '/',
    { schema: { tags, summary: 'The settings that protect the base (director)', response: { 200: SettingsBody, 401: ErrorBody, 403: ErrorBody } } },
    async () => opts.settings.current(),
  );

  app.patch(
    '/',
    {
      schema: {
        tags,
        summary: 'Change them (director); every instance applies a change within a second, and it is kept in the history',
        body: PatchSettingsBody,
        response: { 200: SettingsBody, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => opts.settings.update(viewerOf(request), request.body),
  );
};
