import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { errSerializer, maskIfPhone, PHONE_FIELDS, redactUrl } from './log-scrub.js';

export { redactUrl } from './log-scrub.js';

// Secrets never reach a log line: headers that carry credentials, bodies with passwords, and
// the `token` query parameter that Asterisk's CURL() uses (the URL is logged for every request).
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-switchboard-token"]',
  'req.headers.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'config.PBX_TOKEN',
  'config.AMI_SECRET',
  'config.PBX_HMAC_SECRET',
  'config.ADMIN_PASSWORD',
  'config.DATABASE_URL',
  'config.REDIS_URL',
  'passwordHash',
  '*.passwordHash',
  'req.headers["x-switchboard-signature"]',
];

const PHONE_PATHS = PHONE_FIELDS.flatMap((f) => [f, `*.${f}`]);
const PHONE_LEAVES = new Set(PHONE_FIELDS);

/** Phone fields are masked (`+7916***4567`), everything else that matched is removed. */
function censor(value: unknown, path: string[]): unknown {
  if (PHONE_LEAVES.has(path.at(-1) ?? '')) return typeof value === 'string' ? maskIfPhone(value) : value;
  return '[REDACTED]';
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: [...REDACT_PATHS, ...PHONE_PATHS], censor },
    serializers: {
      req(req: { method: string; url: string; ip?: string; id?: string }) {
        return { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip, reqId: req.id };
      },
      err: errSerializer,
    },
  };
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
