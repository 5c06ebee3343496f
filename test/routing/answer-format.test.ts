import { describe, expect, it } from 'vitest';
import { ANSWER_KEYS, toHashBody, toJsonAnswer } from '../../src/routing/answer-format.js';
import type { RouteDecision } from '../../src/routing/types.js';

/**
 * What Asterisk's func_curl does with `CURLOPT(hashcompat)=yes`: trim trailing bytes below 33,
 * split on `&`, split each piece on its first `=` (no `=`: empty value), ast_uri_decode both
 * halves (`%` followed by two characters that sscanf("%2x") reads → one byte, skipping both;
 * `+` stays `+`). Bytes are read as UTF-8 at the end, as the dialplan shows them. Later
 * duplicates win, as HASH() is written field by field.
 */
function parseLikeAsterisk(body: string): Record<string, string> {
  let bytes = Buffer.from(body, 'utf8');
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] ?? 0) < 33) end -= 1;
  bytes = bytes.subarray(0, end);
  const decode = (part: Buffer): string => {
    const out: number[] = [];
    for (let i = 0; i < part.length; i += 1) {
      const c = part[i] ?? 0;
      const hex = part.subarray(i + 1, i + 3).toString('latin1');
      const m = /^[0-9a-fA-F]{1,2}/.exec(hex);
      if (c === 0x25 && hex.length === 2 && m !== null) {
        out.push(Number.parseInt(m[0], 16));
        i += 2;
      } else {
        out.push(c);
      }
    }
    return Buffer.from(out).toString('utf8');
  };
  const hash: Record<string, string> = {};
  let start = 0;
  for (let i = 0; i <= bytes.length; i += 1) {
    if (i === bytes.length || bytes[i] === 0x26) {
      const piece = bytes.subarray(start, i);
      const eq = piece.indexOf(0x3d);
      const name = decode(eq < 0 ? piece : piece.subarray(0, eq));
      hash[name] = eq < 0 ? '' : decode(piece.subarray(eq + 1));
      start = i + 1;
    }
  }
  return hash;
}

describe('parseLikeAsterisk (the test helper itself)', () => {
  it('mirrors func_curl hashcompat=yes', () => {
    expect(parseLikeAsterisk('a=1&b=x%20y&c=1+1&d&e=f=g\n')).toEqual({ a: '1', b: 'x y', c: '1+1', d: '', e: 'f=g' });
    expect(parseLikeAsterisk('n=%D0%98%D0%B2%D0%B0%D0%BD')).toEqual({ n: 'Иван' });
    expect(parseLikeAsterisk('p=100%')).toEqual({ p: '100%' });
  });

  it('reads the body Asterisk 22 was observed reading (ami-transcripts, curl_hashcompat)', () => {
    // Observed: R2_DIAL=Local/101@fake-phones R2_NAME='Ivan+Petrov Jr' R2_NOTE='a,b' R2_EMPTY='' R2_FLAG=''.
    expect(parseLikeAsterisk('dial=Local%2F101%40fake-phones&name=Ivan+Petrov%20Jr&note=a%2Cb&empty=&flag')).toEqual({
      dial: 'Local/101@fake-phones', name: 'Ivan+Petrov Jr', note: 'a,b', empty: '', flag: '',
    });
  });

  it('shows why URLSearchParams is wrong: a space comes back as +', () => {
    const body = new URLSearchParams({ client_name: 'Иван Петров' }).toString();
    expect(parseLikeAsterisk(body).client_name).toBe('Иван+Петров');
  });

  it('reads an HTTP error page as one long key with no action', () => {
    expect(parseLikeAsterisk('<h1>502 Bad Gateway</h1>\n').action).toBeUndefined();
  });
});

const hangup: RouteDecision = { action: 'hangup', step: 3, reason: 'steps_exhausted', tie: false, candidates: [] };
const ownerDial: RouteDecision = {
  action: 'dial', dial: 'PJSIP/101', timeout: 20, step: 1, reason: 'owner',
  clientId: 42, clientName: 'Иван Петров', managerId: 7, tie: true, candidates: [],
};

describe('toHashBody', () => {
  it('writes every key, in a fixed order, empty when absent', () => {
    expect(toHashBody(hangup, { callId: '1700000000.1' })).toBe(
      'action=hangup&dial=&timeout=&queue=&mailbox=&step=3&reason=steps_exhausted' +
        '&client_id=&client_name=&manager_id=&call_id=1700000000.1&tried=',
    );
    const keys = toHashBody(ownerDial, { callId: 'x' }).split('&').map((p) => p.split('=')[0]);
    expect(keys).toEqual([...ANSWER_KEYS]);
  });

  it('encodes with %XX: no raw spaces, no +, nothing but URI-safe ASCII', () => {
    const body = toHashBody({ ...ownerDial, clientName: 'Иван + Петров' }, { callId: 'pbx1-1700000000.15' });
    expect(body).toMatch(/^[A-Za-z0-9_.!~*'()%&=-]+$/);
    expect(body).toContain('dial=PJSIP%2F101&timeout=20&');
    expect(body).toContain('client_name=%D0%98%D0%B2%D0%B0%D0%BD%20%2B%20');
    expect(parseLikeAsterisk(body).call_id).toBe('pbx1-1700000000.15');
  });

  it.each([
    ['Иван Петров', 'Иван Петров'],
    ['ООО "Ромашка" & сыновья', 'ООО "Ромашка" & сыновья'],
    ['a=b', 'a=b'],
    ['Ромашка, ООО', 'Ромашка, ООО'], // a comma in client_name is harmless (see answer-format.ts)
    ['1+1', '1+1'],
    ['100%', '100%'],
    ['%41%42', '%41%42'], // decoded once, not twice
    ["it's (quoted) `x`", "it's (quoted) `x`"],
    ['ёжик 😀', 'ёжик 😀'],
    ['line1\r\nline2', 'line1 line2'], // CR/LF must not survive
    ['nul\u0000cut', 'nul cut'], // NUL would cut the C string
    ['tab\tand\u0085C1', 'tab and C1'],
    ['  padded \n', 'padded'],
    ['broken \ud800 surrogate', 'broken \ufffd surrogate'],
  ])('round-trips client_name %j', (name, expected) => {
    const body = toHashBody({ ...ownerDial, clientName: name }, { callId: '1.1' });
    const hash = parseLikeAsterisk(body);
    expect(hash.client_name).toBe(expected);
    // The nasty value did not leak into other keys.
    expect(hash.dial).toBe('PJSIP/101');
    expect(hash.timeout).toBe('20');
    expect(hash.call_id).toBe('1.1');
    expect(Object.keys(hash)).toEqual([...ANSWER_KEYS]);
  });

  it('strips commas and control characters from the dialplan arguments', () => {
    const body = toHashBody(
      { ...ownerDial, dial: 'PJSIP/101,30\r\n', queue: 'sales,,t', mailbox: '101@default,u' },
      { callId: '1.1' },
    );
    const hash = parseLikeAsterisk(body);
    expect(hash.dial).toBe('PJSIP/10130');
    expect(hash.queue).toBe('salest');
    expect(hash.mailbox).toBe('101@defaultu');
  });

  it('keeps & and = inside values', () => {
    const hash = parseLikeAsterisk(toHashBody({ ...ownerDial, dial: 'PJSIP/101&PJSIP/102' }, { callId: 'a=b&c' }));
    expect(hash.dial).toBe('PJSIP/101&PJSIP/102');
    expect(hash.call_id).toBe('a=b&c');
  });

  it('writes queue and voicemail answers', () => {
    const queue = parseLikeAsterisk(toHashBody({ action: 'queue', queue: 'sales', timeout: 60, step: 2, reason: 'department', tie: false, candidates: [] }, { callId: '1.1' }));
    expect(queue).toMatchObject({ action: 'queue', queue: 'sales', timeout: '60', dial: '', reason: 'department', step: '2' });
    const vm = parseLikeAsterisk(toHashBody({ action: 'voicemail', mailbox: '101@default', step: 4, reason: 'after_hours', tie: false, candidates: [] }, { callId: '1.1' }));
    expect(vm).toMatchObject({ action: 'voicemail', mailbox: '101@default', timeout: '', reason: 'after_hours' });
  });
});

describe('toJsonAnswer', () => {
  it.each([hangup, ownerDial, { ...ownerDial, clientName: 'a\r\nb, c' }])('has the same keys and values as the hash body', (decision) => {
    const json = toJsonAnswer(decision, { callId: '1.1' });
    expect(Object.keys(json)).toEqual([...ANSWER_KEYS]);
    expect(json).toEqual(parseLikeAsterisk(toHashBody(decision, { callId: '1.1' })));
  });

  it('gives ids and numbers as strings', () => {
    expect(toJsonAnswer(ownerDial, { callId: '1.1' })).toMatchObject({ client_id: '42', manager_id: '7', step: '1', timeout: '20' });
  });
});
