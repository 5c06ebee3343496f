// A tiny evaluator for the constructs switchboard.conf uses, with Asterisk's semantics where
// they matter: an application's data is substituted as a whole before the application splits
// it; CURL() with hashcompat=yes fills ~ODBCFIELDS~ and HASH(name)= reuses whatever field list
// is on the channel; Dial() with an empty first argument ends the call. Any other application,
// function or expression throws, so the test breaks when the dialplan grows past it.
import { type Context, type Dialplan, type Extension, findExtension, findPriority, splitTop } from './parse-dialplan.js';

export interface SimScript {
  /** Body returned by the route service for a URL ('' = down, timed out or refused). */
  curl(url: string): string;
  /** DIALSTATUS for Dial, QUEUESTATUS for Queue ('' = a member answered), ignored for VoiceMail. */
  outcome(app: string, args: string[], vars: ReadonlyMap<string, string>): string;
}
export interface SimResult {
  /** Executed applications with their substituted data (Set/Goto/GotoIf/NoOp left out) and CURL calls. */
  trace: string[];
  urls: string[];
  vars: Map<string, string>;
  /** Variables read before anything set them (typos read as '' in Asterisk). */
  undefinedReads: Set<string>;
}

const BUILTINS = new Set(['DIALSTATUS', 'QUEUESTATUS', 'HANGUPCAUSE']);

/** ast_uri_encode with ast_uri_http: everything but unreserved characters becomes %XX. */
export function uriEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** ast_uri_decode with ast_uri_http: %XX decoded byte-wise, '+' kept. */
function uriDecode(s: string): string {
  const src = Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const hex = src.subarray(i + 1, i + 3).toString('latin1');
    if (src[i] === 0x25 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(src[i] ?? 0);
  }
  return Buffer.from(out).toString('utf8');
}

const escapeCommas = (s: string) => s.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
function splitEscaped(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) cur += s[++i];
    else if (s[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  return [...out, cur];
}

function closing(s: string, open: number): number {
  const [o, c] = s[open] === '{' ? ['{', '}'] : ['[', ']'];
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === o) depth++;
    else if (s[i] === c && --depth === 0) return i;
  }
  throw new Error(`unclosed ${o} in ${s}`);
}

const isTrue = (s: string) => (/^\s*-?\d+/.test(s) ? parseInt(s, 10) !== 0 : s.trim() !== '');

export function evalExpr(expr: string): string {
  const tokens = expr.match(/"[^"]*"|>=|<=|!=|==|[=<>+-]|[^\s"=<>!+-]+/g) ?? [];
  const val = (t: string | undefined) => {
    if (t === undefined || /^(>=|<=|!=|==|[=<>+-])$/.test(t)) throw new Error(`syntax error in $[${expr}]`);
    return t.replace(/^"(.*)"$/, '$1');
  };
  if (tokens.length === 1) return val(tokens[0]);
  if (tokens.length !== 3) throw new Error(`unsupported expression $[${expr}]`);
  const [a, op, b] = [val(tokens[0]), tokens[1], val(tokens[2])];
  const num = /^-?\d+$/.test(a) && /^-?\d+$/.test(b);
  const cmp = num ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
  const result: Record<string, () => number | string> = {
    '=': () => +(cmp === 0), '==': () => +(cmp === 0), '!=': () => +(cmp !== 0),
    '<': () => +(cmp < 0), '>': () => +(cmp > 0), '<=': () => +(cmp <= 0), '>=': () => +(cmp >= 0),
    '+': () => Number(a) + Number(b), '-': () => Number(a) - Number(b),
  };
  const f = op === undefined ? undefined : result[op];
  if (!f || (!num && (op === '+' || op === '-'))) throw new Error(`unsupported expression $[${expr}]`);
  return String(f());
}

class Channel {
  vars = new Map<string, string>();
  curlopts = new Map<string, string>();
  result: SimResult = { trace: [], urls: [], vars: this.vars, undefinedReads: new Set() };
  exten = '';

  constructor(readonly dp: Dialplan, readonly script: SimScript, readonly linkedid: string) {}

  substitute(s: string): string {
    let out = '';
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '$' && (s[i + 1] === '{' || s[i + 1] === '[')) {
        const end = closing(s, i + 1);
        const inner = this.substitute(s.slice(i + 2, end));
        out += s[i + 1] === '{' ? this.expand(inner) : evalExpr(inner);
        i = end;
      } else out += s[i];
    }
    return out;
  }

  read(name: string): string {
    if (name === 'EXTEN') return this.exten;
    const v = this.vars.get(name) ?? this.dp.globals.get(name);
    if (v === undefined && !BUILTINS.has(name)) this.result.undefinedReads.add(name);
    return v ?? '';
  }

  expand(inner: string): string {
    const fn = /^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$/s.exec(inner);
    if (fn) return this.call(fn[1] ?? '', fn[2] ?? '');
    const sub = /^([A-Za-z_][A-Za-z0-9_]*):(-?\d+)(?::(\d+))?$/.exec(inner);
    if (sub) {
      const v = this.read(sub[1] ?? '');
      const from = Number(sub[2]) < 0 ? v.length + Number(sub[2]) : Number(sub[2]);
      return sub[3] === undefined ? v.slice(from) : v.slice(from, from + Number(sub[3]));
    }
    if (!/^[A-Za-z_~][A-Za-z0-9_~]*$/.test(inner)) throw new Error(`unsupported \${${inner}}`);
    return this.read(inner);
  }

  call(name: string, args: string): string {
    const parts = splitTop(args, ',');
    switch (name) {
      case 'CURL':
        if (parts.length !== 1) throw new Error(`CURL() got ${parts.length} arguments (unencoded comma?): ${args}`);
        return this.curl(args);
      case 'HASH':
        if (parts.length !== 2) throw new Error(`HASH() read needs name,key: ${args}`);
        return this.vars.get(`~HASH~${parts[0]}~${parts[1]}~`) ?? '';
      case 'CHANNEL':
        if (args !== 'linkedid') throw new Error(`CHANNEL(${args}) not simulated`);
        return this.linkedid;
      case 'CALLERID':
        if (args !== 'num' && args !== 'name') throw new Error(`CALLERID(${args}) not simulated`);
        return this.vars.get(`CALLERID(${args})`) ?? '';
      case 'URIENCODE':
        return uriEncode(args);
      case 'LEN':
        return String(args.length);
      case 'IF': {
        const q = args.indexOf('?');
        if (q < 0) throw new Error(`IF without '?': ${args}`);
        const rest = args.slice(q + 1);
        const colon = rest.indexOf(':');
        const [t, f] = colon < 0 ? [rest, ''] : [rest.slice(0, colon), rest.slice(colon + 1)];
        return isTrue(args.slice(0, q)) ? t : f;
      }
      default:
        throw new Error(`function ${name}() not simulated`);
    }
  }

  curl(url: string): string {
    this.result.urls.push(url);
    this.result.trace.push(`CURL(${url})`);
    const body = this.script.curl(url).replace(/\r?\n$/, '');
    const mode = this.curlopts.get('hashcompat');
    if (mode !== 'yes') {
      if (mode !== undefined && mode !== 'no') throw new Error(`hashcompat=${mode} not simulated`);
      return body;
    }
    if (body === '') return '';
    const pairs = body.split('&').map((piece) => {
      const eq = piece.indexOf('=');
      return eq < 0 ? [uriDecode(piece), ''] : [uriDecode(piece.slice(0, eq)), uriDecode(piece.slice(eq + 1))];
    });
    this.vars.set('~ODBCFIELDS~', pairs.map(([k]) => escapeCommas(k ?? '')).join(','));
    return pairs.map(([, v]) => escapeCommas(v ?? '')).join(',');
  }

  set(data: string): void {
    const eq = data.indexOf('=');
    if (eq < 0) throw new Error(`Set without '=': ${data}`);
    const [name, value] = [data.slice(0, eq).trim(), data.slice(eq + 1)];
    const fn = /^([A-Z_]+)\((.*)\)$/.exec(name);
    if (!fn) return void this.vars.set(name, value);
    const [, func, arg = ''] = fn;
    if (func === 'CURLOPT') return void this.curlopts.set(arg, value);
    if (func === 'CALLERID' && (arg === 'num' || arg === 'name')) return void this.vars.set(name, value);
    if (func !== 'HASH' || arg.includes(',')) throw new Error(`Set(${name}=) not simulated`);
    const fields = this.vars.get('~ODBCFIELDS~');
    if (fields === undefined) return; // no field list yet: HASH(x)= does nothing
    const values = splitEscaped(value);
    splitEscaped(fields).forEach((k, i) => this.vars.set(`~HASH~${arg}~${k}~`, values[i] ?? ''));
  }

  /** Runs from context/exten/priority until the channel hangs up or runs out of priorities. */
  run(ctx: Context, exten: string, start: number): void {
    let ext: Extension | undefined = findExtension(ctx, exten);
    let pri = start;
    this.exten = exten;
    for (let steps = 0; ; steps++) {
      if (steps > 1000) throw new Error('more than 1000 priorities: endless loop');
      const p = ext?.priorities.find((x) => x.priority === pri);
      if (!ext || !p) {
        if (this.exten !== 'h') this.result.trace.push(`FELL OFF ${ctx.name},${this.exten},${pri}`);
        return;
      }
      const data = this.substitute(p.args);
      const args = data.split(',');
      let next: string | undefined;
      switch (p.app) {
        case 'NoOp':
          break;
        case 'Set':
          this.set(data);
          break;
        case 'Goto':
          next = data;
          break;
        case 'GotoIf': {
          const q = data.indexOf('?');
          if (q < 0) throw new Error(`line ${p.line}: GotoIf without '?'`);
          const rest = data.slice(q + 1);
          const colon = rest.indexOf(':');
          const [t, f] = colon < 0 ? [rest, ''] : [rest.slice(0, colon), rest.slice(colon + 1)];
          next = (isTrue(data.slice(0, q)) ? t : f) || undefined;
          break;
        }
        case 'Ringing':
        case 'Answer':
          this.result.trace.push(`${p.app}()`);
          break;
        case 'MixMonitor': {
          this.vars.set('MIXMONITOR_FILENAME', args[0] ?? '');
          const cmd = this.substitute(args.slice(2).join(',').replace(/\^\{/g, '${'));
          this.result.trace.push(`MixMonitor(${[args[0], args[1] ?? '', cmd].join(',')})`);
          break;
        }
        case 'Dial':
        case 'Queue':
        case 'VoiceMail': {
          this.result.trace.push(`${p.app}(${data})`);
          if ((args[0] ?? '') === '') return; // the application fails and the channel hangs up
          const status = this.script.outcome(p.app, args, this.vars);
          if (p.app === 'Dial') this.vars.set('DIALSTATUS', status);
          if (p.app === 'Queue' && status !== '') this.vars.set('QUEUESTATUS', status);
          if (status === 'CANCEL') return;
          break;
        }
        case 'Hangup':
          return void this.result.trace.push('Hangup()');
        default:
          throw new Error(`line ${p.line}: application ${p.app} not simulated`);
      }
      if (next === undefined) {
        pri++;
        continue;
      }
      const parts = next.split(',');
      const label = parts.at(-1) ?? '';
      if (parts.length === 3) ctx = this.dp.contexts.get(parts[0] ?? '') ?? ctx;
      if (parts.length >= 2) {
        this.exten = parts[parts.length - 2] ?? '';
        ext = findExtension(ctx, this.exten);
      }
      const target = ext ? findPriority(ext, label) : undefined;
      if (!target) throw new Error(`line ${p.line}: no target ${next}`);
      pri = target.priority;
    }
  }
}

export interface SimCall {
  context: string;
  exten: string;
  callerNum?: string;
  uniqueid?: string;
  /** Channel variables present before the dialplan starts (e.g. from Originate). */
  vars?: Record<string, string>;
}

export function simulate(dp: Dialplan, call: SimCall, script: SimScript): SimResult {
  const uniqueid = call.uniqueid ?? '1795348783.3';
  const chan = new Channel(dp, script, uniqueid);
  chan.vars.set('UNIQUEID', uniqueid);
  chan.vars.set('CHANNEL', 'PJSIP/trunk-00000001');
  chan.vars.set('CALLERID(num)', call.callerNum ?? '79161234567');
  chan.vars.set('CALLERID(name)', '');
  for (const [k, v] of Object.entries(call.vars ?? {})) chan.vars.set(k, v);
  const ctx = dp.contexts.get(call.context);
  if (!ctx) throw new Error(`no context ${call.context}`);
  chan.run(ctx, call.exten, 1);
  if (findExtension(ctx, 'h')) {
    chan.vars.set('HANGUPCAUSE', '16');
    chan.run(ctx, 'h', 1);
  }
  return chan.result;
}
