import { describe, expect, it } from 'vitest';
import { leadFate, originAllowed, serialisedOrigin } from '../../src/intake/lead-fate.js';

describe('leadFate', () => {
  const lead = { phone: '+79161234567', departmentId: 4 };
  it("goes to the matched client's owner", () => {
    expect(leadFate(lead, { clientId: 9, ownerId: 3, ownerActive: true })).toEqual({ kind: 'owner', clientId: 9, ownerId: 3 });
  });
  it('waits in the department without a phone, with an unknown one, or when the owner is disabled', () => {
    expect(leadFate({ ...lead, phone: null }, null)).toEqual({ kind: 'department', departmentId: 4, reason: 'no_phone' });
    expect(leadFate(lead, null)).toEqual({ kind: 'department', departmentId: 4, reason: 'unknown_phone' });
    expect(leadFate(lead, { clientId: 9, ownerId: 3, ownerActive: false })).toEqual({ kind: 'department', departmentId: 4, reason: 'owner_disabled' });
  });
});

describe('origins', () => {
  it('serialises a bare origin and refuses paths, queries and other schemes', () => {
    expect(serialisedOrigin('https://Shop.Example.ru/')).toBe('https://shop.example.ru');
    expect(serialisedOrigin('http://localhost:8080')).toBe('http://localhost:8080');
    expect(serialisedOrigin('https://shop.example.ru/form')).toBeNull();
    expect(serialisedOrigin('https://shop.example.ru?x=1')).toBeNull();
    expect(serialisedOrigin('ftp://shop.example.ru')).toBeNull();
    expect(serialisedOrigin('*')).toBeNull();
  });
  it("admits the site's origin or none (a server), nothing else", () => {
    expect(originAllowed('https://shop.example.ru', 'https://shop.example.ru')).toBe(true);
    expect(originAllowed('https://shop.example.ru', undefined)).toBe(true);
    expect(originAllowed('https://shop.example.ru', 'https://evil.example.com')).toBe(false);
    expect(originAllowed('https://shop.example.ru', 'null')).toBe(false);
  });
});
