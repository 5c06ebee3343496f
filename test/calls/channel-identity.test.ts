import { describe, expect, it } from 'vitest';
import { createChannelIdentity, identityFromConfig } from '../../src/calls/channel-identity.js';

describe('channel identity: device dial template read backwards', () => {
  it('finds the extension with the default PJSIP template, and not the trunk', () => {
    const id = identityFromConfig({ DEVICE_DIAL_TEMPLATE: 'PJSIP/{extension}' });
    expect(id.deviceExtension('PJSIP/101-0000000a')).toBe('101');
    expect(id.classify('PJSIP/101-0000000a')).toEqual({ kind: 'device', extension: '101' });
    // The trunk endpoint fits `PJSIP/{extension}` too, but a name is not an extension.
    expect(id.classify('PJSIP/trunk-00000003')).toEqual({ kind: 'external', number: null });
    expect(id.deviceExtension('PJSIP/trunk-00000003')).toBeNull();
    expect(id.deviceExtension('Local/101@fake-phones-00000010;1')).toBeNull();
  });

  it('reads the Local channels of the recordings: ;1 is the phone, ;2 the dialplan side', () => {
    const id = createChannelIdentity({ deviceDialTemplate: 'Local/{extension}@fake-phones' });
    expect(id.deviceExtension('Local/101@fake-phones-00000010;1')).toBe('101');
    expect(id.classify('Local/101@fake-phones-00000010;2')).toEqual({ kind: 'local-half' });
    expect(id.deviceExtension('PJSIP/101-0000000a')).toBeNull();
    // A customer's mobile reached through the same context is a number, not a user.
    expect(id.classify('Local/79161234567@fake-phones-00000011;1')).toEqual({ kind: 'external', number: '79161234567' });
    expect(id.classify('Local/74951110001@from-pstn-00000001;2')).toEqual({ kind: 'local-half' });
    expect(id.classify('Local/run@curl-test-00000000;1')).toEqual({ kind: 'pbx' });
  });

  it('knows an Extension@Context that is the phone itself (blind transfer target) only for a Local template', () => {
    const local = createChannelIdentity({ deviceDialTemplate: 'Local/{extension}@fake-phones' });
    expect(local.deviceAt('102', 'fake-phones')).toBe('102');
    expect(local.deviceAt('102', 'internal')).toBeNull();
    expect(local.deviceAt('79161234567', 'fake-phones')).toBeNull();
    const pjsip = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}' });
    expect(pjsip.deviceAt('102', 'from-internal')).toBeNull();
  });

  it('ignores dial options and URIs that Asterisk does not put in the channel name', () => {
    expect(createChannelIdentity({ deviceDialTemplate: 'Local/{extension}@from-internal/n' })
      .deviceExtension('Local/205@from-internal-0000a1b2;1')).toBe('205');
    expect(createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}/sip:{extension}@10.0.0.5' })
      .deviceExtension('PJSIP/205-000000ff')).toBe('205');
    expect(createChannelIdentity({ deviceDialTemplate: 'SIP/{extension}' }).deviceExtension('SIP/3001-00000001')).toBe('3001');
  });

  it('rejects a template it could never match', () => {
    expect(() => createChannelIdentity({ deviceDialTemplate: '{extension}' })).toThrow(/technology/);
    expect(() => createChannelIdentity({ deviceDialTemplate: 'PJSIP/phone/{extension}' })).toThrow(/channel name/);
  });

  it('classifies numbers by length, or by the known extensions when given', () => {
    const id = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}' });
    expect(id.classifyNumber('101')).toBe('extension');
    expect(id.classifyNumber('79161234567')).toBe('external');
    expect(id.classifyNumber('+79161234567')).toBe('external');
    expect(id.classifyNumber('trunk')).toBe('unknown');
    expect(id.classifyNumber('<unknown>')).toBe('unknown');
    const known = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}', isExtension: (v) => v === '1234567' });
    expect(known.classifyNumber('1234567')).toBe('extension');
    expect(known.classifyNumber('101')).toBe('external');
    expect(known.deviceExtension('PJSIP/1234567-00000001')).toBe('1234567');
    const longer = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}', maxExtensionLength: 10 });
    expect(longer.classifyNumber('1234567890')).toBe('extension');
  });

  it('takes the number out of a Dial() string', () => {
    const id = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}' });
    expect(id.numberFromDialString('79161234567@trunk')).toBe('79161234567');
    expect(id.numberFromDialString('trunk/sip:+79161234567@sip.example.net')).toBe('+79161234567');
    expect(id.numberFromDialString('101')).toBe('101');
    expect(id.numberFromDialString('s@switchboard-inbound')).toBeNull();
  });

  it('has configurable inbound and outbound contexts', () => {
    const def = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}' });
    expect(def.isInboundContext('switchboard-inbound')).toBe(true);
    expect(def.isInboundContext('from-pstn')).toBe(true);
    expect(def.isOutboundContext('click-to-call')).toBe(true);
    expect(def.isOutboundContext('switchboard-outbound')).toBe(true);
    expect(def.isInboundContext('from-internal')).toBe(false);
    const custom = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}', inboundContexts: ['from-trunk'], outboundContexts: [] });
    expect(custom.isInboundContext('from-trunk')).toBe(true);
    expect(custom.isInboundContext('from-pstn')).toBe(false);
    expect(custom.isOutboundContext('click-to-call')).toBe(false);
  });
});
