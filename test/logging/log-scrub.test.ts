import { describe, expect, it } from 'vitest';
import { errSerializer, maskPhone, redactUrl } from '../../src/log-scrub.js';

describe('redactUrl', () => {
  it('redacts credential parameters whose names are percent-encoded, as the query parser decodes them', () => {
    expect(redactUrl('/ws?%74oken=abc123')).toBe('/ws?%74oken=[REDACTED]');
    expect(redactUrl('/ws?%54OKEN=abc123&x=1')).toBe('/ws?%54OKEN=[REDACTED]&x=1');
    expect(redactUrl('/ws?to%6Ben=abc123')).toBe('/ws?to%6Ben=[REDACTED]');
    expect(redactUrl('/ws?%E0%A4%A=abc123')).toBe('/ws?%E0%A4%A=[REDACTED]'); // undecodable name: no value
  });

  it('masks phone numbers in any parameter and path segment, not ids', () => {
    expect(redactUrl('/pbx/route?caller=%2B79161234567&uniqueid=1795348783.2&step=1')).toBe('/pbx/route?caller=%2B7916***4567&uniqueid=1795348783.2&step=1');
    expect(redactUrl('/pbx/route?caller=8+916+123-45-67')).toBe('/pbx/route?caller=8916***4567');
    expect(redactUrl('/api/lookup/%2B79161234567')).toBe('/api/lookup/+7916***4567');
    expect(redactUrl('/pbx/route?caller=101')).toBe('/pbx/route?caller=101');
    expect(redactUrl('/api/calls?from=2026-12-01&to=2026-12-02')).toBe('/api/calls?from=2026-12-01&to=2026-12-02');
  });
});

describe('maskPhone', () => {
  it('keeps the country and operator and the last four digits', () => {
    expect(maskPhone('+79161234567')).toBe('+7916***4567');
    expect(maskPhone('1234567')).toBe('***4567');
  });
});

describe('errSerializer', () => {
  it('drops SQL parameters from a drizzle error, its message, stack and cause', () => {
    const cause = Object.assign(new Error('duplicate key'), { code: '23505', detail: 'Key (mobile)=(+79035556677) already exists.' });
    const err = Object.assign(new Error('Failed query: insert into users values ($1, $2)\nparams: $argon2id$v=19$hash,+79035556677'), {
      name: 'DrizzleQueryError',
      params: ['$argon2id$v=19$hash', '+79035556677'],
      cause,
    });
    const text = JSON.stringify(errSerializer(err));
    expect(text).toContain('insert into users');
    expect(text).toContain('23505');
    expect(text).not.toContain('argon2');
    expect(text).not.toContain('79035556677');
  });
});
