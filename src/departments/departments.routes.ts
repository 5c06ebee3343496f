import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { canEditDepartment } from '../auth/access.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { ConfigSchema, type Config } from '../config.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import type { CountryCode } from '../phones/normalize.js';
import { CreateDepartmentBody, DepartmentBody, DepartmentParams, PatchDepartmentBody } from './departments.schemas.js';
import { createDepartment, deleteDepartment, getDepartment, listDepartments, updateDepartment } from './departments.service.js';

const tags = ['departments'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const departmentsRoutes: FastifyPluginAsyncTypebox<{ db: Db; config?: Pick<Config, 'DEFAULT_REGION'> }> = async (app, opts) => {
  const { db } = opts;
  // DIDs typed in national form are read in the configured region; until app.ts passes the
  // config, the configuration's own default applies.
  const region = (opts.config?.DEFAULT_REGION ?? ConfigSchema.properties.DEFAULT_REGION.default) as CountryCode;

  app.get(
    '/',
    {
      preHandler: app.requireUser,
      schema: { tags, summary: 'All departments (a small table; every signed-in user may read it)', response: { 200: Type.Array(DepartmentBody), 401: ErrorBody } },
    },
    async () => listDepartments(db),
  );

  app.get(
    '/:id',
    { preHandler: app.requireUser, schema: { tags, summary: 'One department', params: DepartmentParams, response: { 200: DepartmentBody, ...errors } } },
    async (request) => getDepartment(db, request.params.id),
  );

  app.post(
    '/',
    {
      preHandler: app.requireRole('director'),
      schema: { tags, summary: 'Create a department (director)', body: CreateDepartmentBody, response: { 201: DepartmentBody, ...errors } },
    },
    async (request, reply) => reply.status(201).send(await createDepartment(db, actorOf(request), request.body, region)),
  );

  app.patch(
    '/:id',
    {
      preHandler: app.requireRole('director', 'curator'),
      schema: {
        tags,
        summary: 'Change a department (director, or the curator of that department); `dids` replaces the list',
        params: DepartmentParams,
        body: PatchDepartmentBody,
        response: { 200: DepartmentBody, ...errors },
      },
    },
    async (request) => {
      if (!canEditDepartment(viewerOf(request), request.params.id)) {
        throw new AppError('FORBIDDEN', 'a curator may change only their own department');
      }
      return updateDepartment(db, actorOf(request), request.params.id, request.body, region);
    },
  );

  app.delete(
    '/:id',
    {
      preHandler: app.requireRole('director'),
      schema: {
        tags,
        summary: 'Delete a department (director); refused while users belong to it',
        params: DepartmentParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteDepartment(db, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
