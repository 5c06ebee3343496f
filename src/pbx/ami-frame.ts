// Streaming parser (and writer) for the AMI wire format, as Asterisk sends it:
//   Asterisk Call Manager/11.0.0\r\n          <- banner, first line, no blank line after it
//   Response: Success\r\nActionID: x\r\n\r\n  <- messages: `Key: Value` lines, blank line ends one
// Chunks may be split anywhere (inside a line, inside CRLF, inside a UTF-8 sequence).
import { StringDecoder } from 'node:string_decoder';

/** Header → value, header names as on the wire (case kept). */
export type AmiMessage = Record<string, string>;

// Originate reads every `Variable` header and also splits each one on commas, so joining repeats
// with ',' means the same thing to Asterisk; keeping only the last would silently drop variables.
const JOINED_KEYS = new Set(['Variable', 'ChanVariable']);
const BANNER = /^Asterisk Call Manager\//;
// A peer that never sends a newline must not grow the buffer without bound.
const MAX_LINE = 1 << 20;

export class AmiFrameParser {
  /** The session banner (`Asterisk Call Manager/11.0.0`), once seen. */
  banner: string | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';
  private current: AmiMessage | null = null;
  private firstLine = true;

  /** Feed bytes; returns the messages completed by this chunk, in order. */
  push(chunk: Buffer | string): AmiMessage[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const buf = this.rest + text;
    const out: AmiMessage[] = [];
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n', start)) {
      // CRLF is the protocol, but a bare LF is accepted (netcat, hand-written tests).
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(buf.slice(start, end), out);
      start = nl + 1;
    }
    // A trailing '\r' stays in `rest`: the '\n' of the same CRLF may come in the next chunk.
    this.rest = buf.slice(start);
    if (this.rest.length > MAX_LINE) {
      this.rest = '';
      throw new Error(`AMI line longer than ${MAX_LINE} bytes`);
    }
    return out;
  }

  /** True while a message is partly received. */
  get pending(): boolean {
    return this.current !== null || this.rest.length > 0;
  }

  private line(line: string, out: AmiMessage[]): void {
    if (this.firstLine) {
      this.firstLine = false;
      if (BANNER.test(line)) {
        this.banner = line;
        return;
      }
    }
    if (line === '') {
      // Several blank lines in a row do not make empty messages.
      if (this.current) out.push(this.current);
      this.current = null;
      return;
    }
    const msg = (this.current ??= {});
    const colon = line.indexOf(':');
    // Split at the first ':' only: values contain ': ' (AppData, Cause-txt, CallerID "" <1>).
    const key = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    const prev = msg[key];
    msg[key] = prev !== undefined && JOINED_KEYS.has(key) ? `${prev},${value}` : value;
  }
}

/** Parse a whole recorded session (a `.ami` or `.sent.ami` transcript). */
export function parseAmi(data: Buffer | string): { banner: string | undefined; messages: AmiMessage[] } {
  const parser = new AmiFrameParser();
  const messages = parser.push(data);
  // A transcript that does not end with a blank line still holds a last message.
  messages.push(...parser.push('\r\n\r\n'));
  return { banner: parser.banner, messages };
}

/** Serialise one message; pairs allow a repeated key (several `Variable:` lines). The caller
 *  validates values first (see `assertSafeAmiValue` in actions.ts): this only formats. */
export function serializeAmi(fields: AmiMessage | ReadonlyArray<readonly [string, string]>): string {
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields);
  let s = '';
  for (const [k, v] of pairs) s += `${k}: ${v}\r\n`;
  return s + '\r\n';
}
