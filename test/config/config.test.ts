import { describe, expect, it } from 'vitest';
import { ConfigError, defaultPublicUrl, loadConfig, publicUrl } from '../../src/config.js';

describe('loadConfig', () => {
  it('starts with no configuration at all (development defaults)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, DEFAULT_REGION: 'RU', ROUTE_BUDGET_MS: 250, DEVICE_DIAL_TEMPLATE: 'PJSIP/{extension}' });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('converts numbers and booleans from strings, and treats empty as unset', () => {
    const config = loadConfig({ PORT: '8080', REDIS_AUTOSTART: 'false', ROUTE_BUDGET_MS: '' });
    expect(config.PORT).toBe(8080);
    expect(config.REDIS_AUTOSTART).toBe(false);
    expect(config.ROUTE_BUDGET_MS).toBe(250);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty"/],
    [{ ROUTE_BUDGET_MS: '5000' }, /ROUTE_BUDGET_MS/],
    [{ DEFAULT_REGION: 'russia' }, /DEFAULT_REGION/],
    [{ DEVICE_DIAL_TEMPLATE: 'PJSIP/101' }, /DEVICE_DIAL_TEMPLATE/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL=\(hidden\)/],
    [{ AMI_HOST: 'pbx.local' }, /AMI_SECRET: is required/],
    [{ PBX_ALLOWED_IPS: '10.0.0.1, not-an-ip' }, /PBX_ALLOWED_IPS: "not-an-ip"/],
    [{ NODE_ENV: 'production' }, /PBX_TOKEN: is required/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a secret value in its error', () => {
    try {
      loadConfig({ PBX_TOKEN: 'short', AMI_SECRET: '' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('PBX_TOKEN');
      expect(String(error)).not.toContain('short');
    }
  });
});

describe('network defaults', () => {
  it('listens on loopback outside production and everywhere in production, unless HOST says otherwise', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).HOST).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'production', PBX_TOKEN: 'a-real-token-0123456789' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '' }).HOST).toBe('127.0.0.1');
  });

  it('points the public URL at the port listened on and the host unless PUBLIC_URL is set', () => {
    expect(publicUrl(loadConfig({}))).toBe('http://localhost:3000');
    expect(publicUrl(loadConfig({ PORT: '8080' }))).toBe('http://localhost:8080');
    expect(publicUrl(loadConfig({ PORT: '0' }), 41234)).toBe('http://localhost:41234');
    expect(publicUrl(loadConfig({ PORT: '8080', HOST: '10.1.2.3' }))).toBe('http://10.1.2.3:8080');
    expect(publicUrl(loadConfig({ PORT: '8080', PUBLIC_URL: 'https://sb.example.com/' }), 41234)).toBe('https://sb.example.com');
    expect(() => loadConfig({ PUBLIC_URL: 'sb.example.com' })).toThrow(/PUBLIC_URL/);
  });

  it.each([
    ['0.0.0.0', 'http://localhost:3000'], ['::', 'http://localhost:3000'], ['127.0.0.1', 'http://localhost:3000'],
    ['::1', 'http://localhost:3000'], ['sb.internal', 'http://sb.internal:3000'], ['fd00::5', 'http://[fd00::5]:3000'],
  ])('defaultPublicUrl(%s) is %s', (host, url) => {
    expect(defaultPublicUrl(host, 3000)).toBe(url);
  });
});
