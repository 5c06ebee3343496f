import { describe, expect, it } from 'vitest';
import { buildClickToCall, ClickToCallError, displayName, parseAutoAnswerHeader, parseTarget, type ClickToCallConfig } from '../../src/clicktocall/originate-call.js';
import { AmiError } from '../../src/pbx/actions.js';
import { balanceError, functionsIn, parseDialplan } from '../dialplan/parse-dialplan.js';
import { readFileSync } from 'node:fs';

const config: ClickToCallConfig = {
  DEVICE_DIAL_TEMPLATE: 'PJSIP/{extension}',
  OUTBOUND_DIAL_TEMPLATE: 'PJSIP/{number}@trunk',
  OUTBOUND_CALLER_ID: '74951110000',
  ORIGINATE_TIMEOUT_SECONDS: 25,
  AUTO_ANSWER_HEADER: '',
  DEFAULT_REGION: 'RU',
};
const input = {
  user: { id: 7, extension: '101' },
  target: { e164: '+79161234567', digits: '79161234567' },
  client: { id: 42, name: 'ООО "Ромашка", склад' },
  callId: 'call-1',
  channelId: 'sb-c2c-00aa',
};

describe('parseTarget', () => {
  it.each([
    ['8 916 123-45-67', '+79161234567'],
    ['+7 (916) 123 45 67', '+79161234567'],
    ['79161234567', '+79161234567'],
    ['tel:+7-916-123-45-67', '+79161234567'],
    ['tel:+79161234567;phone-context=example.com', '+79161234567'],
  ])('normalises %j', (raw, e164) => {
    expect(parseTarget(raw, 'RU')).toEqual({ ok: true, e164, digits: e164.slice(1) });
  });

  it.each([
    ['CR/LF', '+79161234567\r\nAction: Hangup'],
    ['a bare LF', '8916123\n4567'],
    ['a comma', '+79161234567,1'],
    ['letters', '8 916 CALL NOW'],
    ['an extension in words', '+7 495 111-00-01 доб. 12'],
    ['&', '79161234567&PJSIP/666'],
    ['too short', '12'],
    ['nothing', '   '],
  ])('refuses %s', (_what, raw) => {
    const r = parseTarget(raw, 'RU');
    expect(r.ok).toBe(false);
  });
});

describe('displayName', () => {
  it('keeps one printable line without CallerID or variable syntax, 40 characters at most', () => {
    expect(displayName('ООО "Ромашка",\r\n склад <main>\\')).toBe('ООО Ромашка склад main');
    expect(displayName("O'Brien & Sons")).toBe("O'Brien & Sons");
    expect([...displayName('Я'.repeat(100))]).toHaveLength(40);
    expect(displayName(null)).toBe('');
  });
});

describe('buildClickToCall', () => {
  it("rings the user's device, then switchboard-outbound dials the digits with our variables", () => {
    const fields = buildClickToCall(input, config);
    expect(fields).toMatchObject({
      Channel: 'PJSIP/101',
      Context: 'switchboard-outbound',
      Exten: '79161234567',
      Priority: 1,
      CallerID: '"ООО Ромашка склад" <79161234567>',
      Timeout: 25_000,
      Async: 'true',
      ChannelId: 'sb-c2c-00aa',
      Variable: {
        SWITCHBOARD_CALL_ID: 'call-1',
        SWITCHBOARD_USER_ID: '7',
        SWITCHBOARD_CLIENT_NAME: 'ООО Ромашка склад',
        SWITCHBOARD_DIAL: 'PJSIP/79161234567@trunk',
        SWITCHBOARD_CALLERID: '74951110000',
      },
    });
    expect(fields).not.toHaveProperty('PreDialGoSub');
  });

  it('shows just the number when there is no client', () => {
    expect(buildClickToCall({ ...input, client: null }, config)).toMatchObject({ CallerID: '79161234567', Variable: { SWITCHBOARD_CLIENT_NAME: '' } });
  });

  it('adds the auto-answer header through the pre-dial subroutine', () => {
    const fields = buildClickToCall(input, { ...config, AUTO_ANSWER_HEADER: 'Call-Info: <sip:pbx>;answer-after=0' });
    expect(fields.PreDialGoSub).toBe('switchboard-autoanswer,s,1(Call-Info,<sip:pbx>;answer-after=0)');
  });

  it('refuses an extension that cannot be dialled, and an outbound caller ID that would break the variables', () => {
    expect(() => buildClickToCall({ ...input, user: { id: 7, extension: '1 01' } }, config)).toThrow(ClickToCallError);
    expect(() => buildClickToCall(input, { ...config, OUTBOUND_CALLER_ID: '7495,1' })).toThrow(AmiError);
  });
});

describe('parseAutoAnswerHeader', () => {
  it('splits name and value, or says why it cannot be sent', () => {
    expect(parseAutoAnswerHeader('')).toBeNull();
    expect(parseAutoAnswerHeader('Alert-Info: info=alert-autoanswer')).toEqual({ name: 'Alert-Info', value: 'info=alert-autoanswer' });
    for (const bad of ['no colon', 'Call-Info: a,b', 'Call-Info: x(1)', 'X: ${EVIL}', 'Bad Name: x']) {
      expect(() => parseAutoAnswerHeader(bad), bad).toThrow(/AUTO_ANSWER_HEADER/);
    }
  });
});

describe('dialplan [switchboard-autoanswer]', () => {
  const dp = parseDialplan(readFileSync(new URL('../../dialplan/switchboard.conf', import.meta.url), 'utf8'));
  const ctx = dp.contexts.get('switchboard-autoanswer');

  it('sets the header on PJSIP channels only and always returns', () => {
    const s = ctx?.extensions.find((e) => e.pattern === 's');
    expect(s?.priorities.map((p) => p.app)).toEqual(['GotoIf', 'GotoIf', 'Set', 'Return']);
    expect(s?.priorities[2]?.args).toBe('PJSIP_HEADER(add,${ARG1})=${ARG2}');
    for (const p of s?.priorities ?? []) {
      expect(balanceError(`${p.app}(${p.args})`), `line ${p.line}`).toBeNull();
      for (const f of functionsIn(p)) expect(['CHANNEL', 'LEN', 'PJSIP_HEADER']).toContain(f);
    }
  });
});
