import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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
  'config.ADMIN_PASSWORD',
  'config.DATABASE_URL',
  'config.REDIS_URL',
];

/** Replaces credential-bearing query parameters in a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|password|secret)=)[^&#]*/gi, '$1[REDACTED]');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req(req: { method: string; url: string; ip?: string; id?: string }) {
        return { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip, reqId: req.id };
      },
    },
  };
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
