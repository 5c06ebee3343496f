import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import ipaddr from 'ipaddr.js';

// The one place that reads the environment. Everything else receives a Config.
// The schema is the documentation: `.env.example` and the README table list the same names.

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  /** Default: `0.0.0.0` in production, `127.0.0.1` otherwise (set in loadConfig). */
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  LOG_LEVEL: Type.Unsafe<string>({ ...LogLevel, default: 'info' }),
  DATA_DIR: Type.String({ minLength: 1, default: '.data' }),

  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  EMBEDDED_PG_PORT: Type.Integer({ ...Port, default: 5433 }),
  /**
   * PostgreSQL unreachable for this long (embedded one not restartable, or DATABASE_URL down):
   * the process exits with 69 so its supervisor restarts it; 0 = never exit.
   */
  DATABASE_DOWN_EXIT_SECONDS: Type.Integer({ minimum: 0, maximum: 24 * 3600, default: 60 }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  REDIS_AUTOSTART: Type.Boolean({ default: true }),
  /** Namespace of every Redis key and channel, so several deployments (or test runs) can share one Redis. */
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', default: 'switchboard' }),

  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  TOKEN_TTL_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 90, default: 12 }),
  /** Fastify's trustProxy: '' = the peer is the client; 'true', a hop count, or the proxies' addresses/CIDRs. */
  TRUST_PROXY: Type.String({ default: '' }),
  /** Failed sign-ins from one address (any login) per 15 minutes before 429. */
  SIGNIN_ADDRESS_MAX_FAILURES: Type.Integer({ minimum: 1, default: 100 }),
  /** Leads one address may post to one site per minute (src/intake/lead-rate-limit.ts), then 429. */
  INTAKE_LEADS_PER_MINUTE: Type.Integer({ minimum: 1, default: 10 }),
  /** Client import (issue 12): the largest file accepted, and the offset of dates typed without one. */
  IMPORT_MAX_BYTES: Type.Integer({ minimum: 1024, default: 200 * 1024 * 1024 }),
  IMPORT_UTC_OFFSET: Type.String({ pattern: '^[+-][0-9]{2}:[0-9]{2}$', default: '+03:00' }),
  /** Failed sign-ins for one login (any address) per 15 minutes before short (≤ 60 s) locks. */
  SIGNIN_ACCOUNT_MAX_FAILURES: Type.Integer({ minimum: 1, default: 50 }),
  /** argon2 verifications run at once; 16 more may wait, the rest get 503. */
  SIGNIN_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),

  PBX_TOKEN: Type.String({ minLength: 16 }),
  PBX_ALLOWED_IPS: Type.String({ default: '' }),
  /** When set, /pbx/* also needs X-Switchboard-Timestamp and an HMAC X-Switchboard-Signature (README). */
  PBX_HMAC_SECRET: Type.String({ default: '' }),
  ROUTE_BUDGET_MS: Type.Integer({ minimum: 20, maximum: 900, default: 250 }),
  /** The routing directory answers as current while shown current within this (heartbeat every ROUTE_FRESH_MS / 5). */
  ROUTE_FRESH_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 1_000 }),
  /** Older than ROUTE_FRESH_MS: answers marked stale; older than this: the department line. */
  ROUTE_STALE_MAX_MS: Type.Integer({ minimum: 1_000, maximum: 24 * 3_600_000, default: 600_000 }),
  DEFAULT_REGION: Type.String({ pattern: '^[A-Z]{2}$', default: 'RU' }),
  DEFAULT_DEPARTMENT: Type.String({ default: '' }),
  FALLBACK_DIAL: Type.String({ default: '' }),
  DEVICE_DIAL_TEMPLATE: Type.String({ pattern: '\\{extension\\}', default: 'PJSIP/{extension}' }),
  MOBILE_DIAL_TEMPLATE: Type.String({ pattern: '\\{(number|e164)\\}', default: 'PJSIP/{number}@trunk' }),
  USER_MAILBOX_TEMPLATE: Type.String({ pattern: '\\{extension\\}', default: '{extension}@default' }),
  RING_TIMEOUT_OWNER: Type.Integer({ minimum: 5, maximum: 300, default: 20 }),
  RING_TIMEOUT_MOBILE: Type.Integer({ minimum: 5, maximum: 300, default: 25 }),
  RING_TIMEOUT_DEPARTMENT: Type.Integer({ minimum: 5, maximum: 600, default: 30 }),
  ROUTE_MAX_STEPS: Type.Integer({ minimum: 1, maximum: 20, default: 6 }),

  AMI_HOST: Type.String({ default: '' }),
  AMI_PORT: Type.Integer({ ...Port, default: 5038 }),
  AMI_USERNAME: Type.String({ default: 'switchboard' }),
  AMI_SECRET: Type.String({ default: '' }),
  PBX_SYSTEM_NAME: Type.String({ minLength: 1, default: 'default' }),
  /** Dialplan contexts whose calls are inbound from the trunk / outbound click-to-call. */
  INBOUND_CONTEXTS: Type.String({ default: 'switchboard-inbound,from-pstn' }),
  OUTBOUND_CONTEXTS: Type.String({ default: 'switchboard-outbound,click-to-call' }),

  RECORDINGS_DIR: Type.String({ default: '' }),
  RECORDINGS_MAX_BYTES: Type.Integer({ minimum: 1024, default: 200 * 1024 * 1024 }),
  /** Managers and assistants see clients' numbers masked in lists (full on a card they open). */
  MASK_PHONES_IN_LISTS: Type.Boolean({ default: true }),
  /** Distinct client cards (and list pages) one user may read an hour before directors are told. */
  READ_BUDGET_CARDS_PER_HOUR: Type.Integer({ minimum: 1, default: 200 }),
  /** Past the budget, also disable the account and end its sessions. */
  READ_BUDGET_SUSPEND: Type.Boolean({ default: false }),
  /** Files attached to deals: the largest upload, and the media types accepted (comma-separated). */
  DEAL_FILES_MAX_BYTES: Type.Integer({ minimum: 1024, default: 25 * 1024 * 1024 }),
  DEAL_FILES_TYPES: Type.String({
    default:
      'application/pdf,image/png,image/jpeg,image/gif,image/webp,text/plain,text/csv,application/rtf,' +
      'application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,' +
      'application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,' +
      'application/vnd.ms-powerpoint,application/vnd.openxmlformats-officedocument.presentationml.presentation,' +
      'application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet',
  }),
  S3_BUCKET: Type.String({ default: '' }),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  S3_ENDPOINT: Type.String({ default: '' }),
  S3_ACCESS_KEY_ID: Type.String({ default: '' }),
  S3_SECRET_ACCESS_KEY: Type.String({ default: '' }),
  S3_FORCE_PATH_STYLE: Type.Boolean({ default: true }),
  /** Empty: this service on the port it actually listens on, see publicUrl(). */
  PUBLIC_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  CARD_URL_TEMPLATE: Type.String({ default: '' }),

  ORIGINATE_TIMEOUT_SECONDS: Type.Integer({ minimum: 5, maximum: 120, default: 30 }),
  OUTBOUND_CALLER_ID: Type.String({ default: '' }),
  /** Customer leg dial string; {number} = E.164 digits without '+', {e164} with it. */
  OUTBOUND_DIAL_TEMPLATE: Type.String({ pattern: '\\{(number|e164)\\}', default: 'PJSIP/{number}@trunk' }),
  /** SIP header added to the manager's leg so the phone answers by itself, e.g. `Call-Info: answer-after=0`; empty = off. */
  AUTO_ANSWER_HEADER: Type.String({ default: '' }),

  /** Private ranges webhooks may reach, e.g. a CRM on the LAN: `10.0.0.0/8,fd00::/8`; public addresses always. */
  WEBHOOK_ALLOWED_PRIVATE_CIDRS: Type.String({ default: '' }),

  MISSED_CALL_CALLBACK_MINUTES: Type.Integer({ minimum: 0, maximum: 7 * 24 * 60, default: 15 }),
  MISSED_CALL_ESCALATE_MINUTES: Type.Integer({ minimum: 1, maximum: 30 * 24 * 60, default: 120 }),
  /** GET /metrics: a bearer token for Prometheus, and/or addresses that may scrape without one. */
  METRICS_TOKEN: Type.String({ default: '', pattern: '^$|^.{16,}$' }),
  METRICS_ALLOWED_IPS: Type.String({ default: '' }),

  REMINDER_RECONCILE_SECONDS: Type.Integer({ minimum: 5, maximum: 3600, default: 60 }),
  /** Statistics: a missed call returned within this many hours counts as a callback on time (README, "Statistics"). */
  STATS_CALLBACK_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 2 }),
  /** How often one instance adds the calls queued since (call_stats_queue) to the call rollups; figures are exact either way. */
  STATS_FOLD_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }),
});

export type Config = Static<typeof ConfigSchema>;

/** Variables whose values must never reach a log line. */
export const SECRET_KEYS = ['DATABASE_URL', 'REDIS_URL', 'ADMIN_PASSWORD', 'PBX_TOKEN', 'PBX_HMAC_SECRET', 'AMI_SECRET', 'S3_SECRET_ACCESS_KEY', 'METRICS_TOKEN'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const DEV_PBX_TOKEN = 'dev-only-pbx-token-change-me';

/**
 * Builds the Config from an environment map. Unknown variables are ignored; empty strings count
 * as unset so `FOO=` in a .env file means "use the default". A wrong value throws a ConfigError
 * naming the variable, so the process stops before it listens.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  // Outside production a fixed token keeps the two-command start working; production must set
  // one. A fixed, published token is only safe where nobody else can reach the service: a
  // development instance listens on loopback unless told otherwise, and the PBX guard accepts
  // the development token from loopback only (auth/pbx-guard.ts).
  if (raw.PBX_TOKEN === undefined && raw.NODE_ENV !== 'production') raw.PBX_TOKEN = DEV_PBX_TOKEN;
  if (raw.HOST === undefined) raw.HOST = raw.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1';

  const withDefaults = Value.Default(ConfigSchema, raw);
  const converted = Value.Convert(ConfigSchema, withDefaults);
  const problems = [...Value.Errors(ConfigSchema, converted)].map((e) => {
    const name = e.path.replace(/^\//, '') || '(root)';
    const shown = SECRET_KEYS.includes(name as (typeof SECRET_KEYS)[number]) ? '(hidden)' : JSON.stringify(raw[name]);
    return e.value === undefined ? `${name}: is required` : `${name}=${shown}: ${e.message}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const config = converted as Config;
  const extra = validateCrossField(config);
  if (extra.length > 0) throw new ConfigError(extra);
  return config;
}

/** Whether this is the published development token, which is accepted from loopback only. */
export const isDevPbxToken = (token: string): boolean => token === DEV_PBX_TOKEN;

/**
 * The service's address for links (webhooks' recordingUrl): PUBLIC_URL, else this service on
 * `listeningPort` (the port the server really got: with PORT=0, or a caller that listens on
 * another port than PORT, the configured one would be wrong), else on PORT.
 */
export function publicUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>, listeningPort?: number): string {
  return config.PUBLIC_URL !== '' ? config.PUBLIC_URL.replace(/\/+$/, '') : defaultPublicUrl(config.HOST, listeningPort ?? config.PORT);
}

/**
 * The service's own address when PUBLIC_URL is not set: the host it listens on, with
 * `localhost` for a wildcard or loopback address (a link to 0.0.0.0 opens nothing), and the
 * port it actually listens on.
 */
export function defaultPublicUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' || host === '::1' || host.startsWith('127.') || host === 'localhost';
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function validateCrossField(config: Config): string[] {
  const problems: string[] = [];
  if (config.NODE_ENV === 'production' && config.PBX_TOKEN === DEV_PBX_TOKEN) {
    problems.push('PBX_TOKEN: the development token cannot be used in production');
  }
  if (config.PBX_HMAC_SECRET !== '' && config.PBX_HMAC_SECRET.length < 32) {
    problems.push('PBX_HMAC_SECRET: must be at least 32 characters (e.g. openssl rand -hex 32)');
  }
  if (config.AMI_HOST !== '' && config.AMI_SECRET === '') {
    problems.push('AMI_SECRET: is required when AMI_HOST is set');
  }
  for (const cidr of config.WEBHOOK_ALLOWED_PRIVATE_CIDRS.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!ipaddr.isValidCIDR(cidr)) problems.push(`WEBHOOK_ALLOWED_PRIVATE_CIDRS: "${cidr}" is not a CIDR range like 10.0.0.0/8`);
  }
  for (const ip of allowedIps(config)) {
    if (!/^[0-9a-fA-F:.]+$/.test(ip)) problems.push(`PBX_ALLOWED_IPS: "${ip}" is not an IP address`);
  }
  for (const ip of allowedIps({ PBX_ALLOWED_IPS: config.METRICS_ALLOWED_IPS })) {
    if (!/^[0-9a-fA-F:.]+$/.test(ip)) problems.push(`METRICS_ALLOWED_IPS: "${ip}" is not an IP address`);
  }
  return problems;
}

/** TRUST_PROXY as Fastify's `trustProxy` option. */
export function trustProxy(config: Pick<Config, 'TRUST_PROXY'>): boolean | string[] | ((address: string, hop: number) => boolean) {
  const value = config.TRUST_PROXY.trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  // A hop count, as Fastify reads a number (its typings leave the number out).
  if (/^\d+$/.test(value)) return (_address, hop) => hop < Number(value);
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export function allowedIps(config: Pick<Config, 'PBX_ALLOWED_IPS'>): string[] {
  return config.PBX_ALLOWED_IPS.split(',').map((s) => s.trim()).filter(Boolean);
}
