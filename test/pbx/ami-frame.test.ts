import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AmiFrameParser, parseAmi, serializeAmi, type AmiMessage } from '../../src/pbx/ami-frame.js';
import { transcriptsDir } from './fake-ami-server.js';

const dir = transcriptsDir();
const files = [
  ...readdirSync(dir).filter((f) => f.endsWith('.ami')),
  ...readdirSync(join(dir, 'with-systemname')).filter((f) => f.endsWith('.ami')).map((f) => `with-systemname/${f}`),
];

// Small deterministic PRNG so a failing split is reproducible.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function parseInChunks(data: Buffer, cut: (offset: number) => number): AmiMessage[] {
  const parser = new AmiFrameParser();
  const out: AmiMessage[] = [];
  for (let i = 0; i < data.length;) {
    const n = Math.max(1, cut(i));
    out.push(...parser.push(data.subarray(i, i + n)));
    i += n;
  }
  expect(parser.pending).toBe(false);
  return out;
}

describe('ami-frame on the recorded transcripts', () => {
  it('finds the transcripts', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)('%s: one message per blank-line separator, banner apart', (file) => {
    const data = readFileSync(join(dir, file));
    const { banner, messages } = parseAmi(data);
    const separators = data.toString('latin1').split('\r\n\r\n').length - 1;
    expect(messages).toHaveLength(separators);
    const isSession = !file.endsWith('.sent.ami') && !file.endsWith('.cdr.ami');
    expect(banner).toBe(isSession ? 'Asterisk Call Manager/11.0.0' : undefined);
    // Every message is Action, Response or Event first, as Asterisk writes them.
    for (const m of messages) expect(Object.keys(m)[0]).toMatch(/^(Action|Response|Event)$/);
  });

  it.each(files.filter((f) => !f.endsWith('.sent.ami')))('%s: random chunking gives the same messages', (file) => {
    const data = readFileSync(join(dir, file));
    const whole = parseAmi(data).messages;
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      expect(parseInChunks(data, () => Math.floor(r() * 64) + 1)).toEqual(whole);
    }
    // Cut between every CR and its LF.
    const crlfCut = (i: number): number => {
      const cr = data.indexOf('\r', i);
      return cr === -1 ? data.length - i : cr - i + 1;
    };
    expect(parseInChunks(data, crlfCut)).toEqual(whole);
  });
});

describe('ami-frame details', () => {
  it('one byte at a time, values with ": ", empty values, UTF-8 split inside a character', () => {
    const text = 'Asterisk Call Manager/11.0.0\r\nEvent: Newexten\r\nAppData: a: b: c\r\n' +
      'AccountCode: \r\nCallerIDName: Иван\r\n\r\n';
    const out = parseInChunks(Buffer.from(text, 'utf8'), () => 1);
    expect(out).toEqual([{ Event: 'Newexten', AppData: 'a: b: c', AccountCode: '', CallerIDName: 'Иван' }]);
  });

  it('keeps the last of a repeated key, joins Variable lines with a comma', () => {
    const { messages } = parseAmi('Action: Originate\r\nChannel: A\r\nChannel: B\r\nVariable: X=1\r\nVariable: Y=2\r\n\r\n');
    expect(messages).toEqual([{ Action: 'Originate', Channel: 'B', Variable: 'X=1,Y=2' }]);
  });

  it('accepts bare LF, ignores extra blank lines, keeps a message without a final blank line', () => {
    const { banner, messages } = parseAmi('Response: Success\nActionID: 1\n\n\n\r\nEvent: Hangup\r\nCause: 16');
    expect(banner).toBeUndefined();
    expect(messages).toEqual([{ Response: 'Success', ActionID: '1' }, { Event: 'Hangup', Cause: '16' }]);
  });

  it('serializeAmi writes what the parser reads back', () => {
    const wire = serializeAmi([['Action', 'Originate'], ['Variable', 'A=1'], ['Variable', 'B=2']]);
    expect(wire).toBe('Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n');
    expect(parseAmi(wire).messages).toEqual([{ Action: 'Originate', Variable: 'A=1,B=2' }]);
  });
});
