import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type Dialplan, balanceError, findPriority, functionsIn, jumpsOf, parseConf, parseDialplan, resolveTarget, unguardedCalls,
} from './parse-dialplan.js';
import { KEPT_VARIABLES } from '../../src/pbx/events.js';
import { toHashBody } from '../../src/routing/answer-format.js';
import { decideRoute } from '../../src/routing/decide-route.js';
import { type SimCall, type SimResult, simulate } from './simulate-dialplan.js';

const read = (name: string) => readFileSync(new URL(`../../dialplan/${name}`, import.meta.url), 'utf8');
const confText = read('switchboard.conf');
const globalsText = read('globals.conf.sample');
const sampleGlobals = new Map((parseConf(globalsText)[0]?.entries ?? []).map((e) => [e.key, e.value] as const));

function load(text = confText, globals: Record<string, string> = {}): Dialplan {
  const dp = parseDialplan(text);
  dp.globals = new Map([...sampleGlobals, ...Object.entries(globals)]);
  return dp;
}
const dp = load();
const CONTEXTS = ['switchboard-inbound', 'switchboard-outbound'];
const APPS = new Set(['NoOp', 'Set', 'Ringing', 'MixMonitor', 'Dial', 'Queue', 'VoiceMail', 'Hangup', 'GotoIf', 'Goto', 'ExecIf', 'Answer', 'Playback', 'Wait']);
const FUNCTIONS = new Set(['CURL', 'CURLOPT', 'HASH', 'CHANNEL', 'CALLERID', 'URIENCODE', 'LEN', 'IF']);
const everyPriority = (d: Dialplan) =>
  CONTEXTS.flatMap((c) => d.contexts.get(c)?.extensions.flatMap((ext) => ext.priorities.map((p) => ({ ctx: d.contexts.get(c)!, ext, p }))) ?? []);

describe('dialplan/switchboard.conf, statically', () => {
  it('has both contexts, each with _X. at priority 1', () => {
    for (const name of CONTEXTS) {
      const x = dp.contexts.get(name)?.extensions.find((e) => e.pattern === '_X.');
      expect(x?.priorities[0]?.priority, name).toBe(1);
    }
  });

  it('numbers priorities 1, 2, 3… and never reuses a label in an extension', () => {
    for (const ctx of CONTEXTS.map((c) => dp.contexts.get(c)!)) {
      for (const ext of ctx.extensions) {
        expect(ext.priorities.map((p) => p.priority)).toEqual(ext.priorities.map((_, i) => i + 1));
        const labels = ext.priorities.flatMap((p) => (p.label ? [p.label] : []));
        expect(new Set(labels).size, `${ctx.name} ${ext.pattern}`).toBe(labels.length);
      }
    }
  });

  it('jumps only to labels and priorities that exist', () => {
    for (const { ctx, ext, p } of everyPriority(dp)) {
      for (const t of jumpsOf(p).targets) expect(resolveTarget(dp, ctx, ext, t), `line ${p.line}: ${t}`).toBe(true);
    }
  });

  it('balances (), ${}, ^{} and $[] on every line', () => {
    for (const { p } of everyPriority(dp)) expect(balanceError(`${p.app}(${p.args})`), `line ${p.line}`).toBeNull();
  });

  it('uses only applications and functions of the stock modules', () => {
    for (const { p } of everyPriority(dp)) {
      expect(APPS.has(p.app), `line ${p.line}: ${p.app}`).toBe(true);
      for (const f of functionsIn(p)) expect(FUNCTIONS.has(f), `line ${p.line}: ${f}()`).toBe(true);
    }
  });

  it('checks the first argument of every Dial, Queue and VoiceMail for empty before the call', () => {
    for (const ctx of CONTEXTS.map((c) => dp.contexts.get(c)!)) {
      for (const ext of ctx.extensions) expect(unguardedCalls(ctx, ext)).toEqual([]);
    }
  });

  it('asks the service into a fresh hash per step, with hashcompat and 1 s timeouts set first', () => {
    const ext = dp.contexts.get('switchboard-inbound')!.extensions.find((e) => e.pattern === '_X.')!;
    const curls = ext.priorities.filter((p) => p.args.includes('${CURL('));
    expect(curls).toHaveLength(1);
    const name = /^HASH\(([^)]*)\)=/.exec(curls[0]!.args)?.[1] ?? '';
    expect(name).toMatch(/\$\{[A-Z_]*STEP[A-Z_]*\}/);
    for (const p of ext.priorities.filter((q) => q.args.includes('${HASH('))) {
      expect(p.args, `line ${p.line} reads another hash`).toContain(`\${HASH(${name},`);
    }
    const before = ext.priorities.filter((p) => p.priority < curls[0]!.priority).map((p) => p.args);
    expect(before).toContain('CURLOPT(hashcompat)=yes');
    for (const opt of ['httptimeout', 'conntimeout']) {
      const v = before.map((a) => new RegExp(`^CURLOPT\\(${opt}\\)=(.*)$`).exec(a)?.[1]).find((x) => x !== undefined);
      expect(Number(v), opt).toBeGreaterThan(0);
      expect(Number(v), opt).toBeLessThanOrEqual(1);
    }
  });

  it('reads only globals that the sample defines', () => {
    const required = ['URL', 'TOKEN', 'RECORDINGS_DIR', 'RECORDING_POSTCMD', 'FALLBACK_DIAL', 'FALLBACK_TIMEOUT',
      'FALLBACK_MAILBOX', 'MAX_STEPS', 'OUTBOUND_TIMEOUT'].map((n) => `SWITCHBOARD_${n}`);
    for (const n of required) expect(sampleGlobals.has(n), n).toBe(true);
    const fromOriginate = ['CALL_ID', 'CLIENT_NAME', 'DIAL', 'CALLERID', 'LINKEDID'].map((n) => `SWITCHBOARD_${n}`);
    for (const [, n] of confText.matchAll(/\$\{(SWITCHBOARD_[A-Z_]+)\}/g)) {
      if (!fromOriginate.includes(n!)) expect(sampleGlobals.has(n!), n).toBe(true);
    }
  });
});

describe('the static checks themselves', () => {
  const one = (body: string) => {
    const d = parseDialplan(`[t]\nexten => _X.,1,NoOp()\n${body}`);
    const ctx = d.contexts.get('t')!;
    return { d, ctx, ext: ctx.extensions[0]! };
  };
  it('flag an unguarded, a reassigned and a bypassed Dial', () => {
    const bare = one(' same => n,Dial(${D},20)');
    expect(unguardedCalls(bare.ctx, bare.ext)).toHaveLength(1);
    const reassigned = one(' same => n,GotoIf($["${D}" = ""]?x)\n same => n,Set(D=${E})\n same => n(x),Dial(${D})');
    expect(unguardedCalls(reassigned.ctx, reassigned.ext)).toHaveLength(1);
    const bypass = one(' same => n,Goto(in)\n same => n,GotoIf($["${D}" = ""]?out)\n same => n(in),Dial(${D})\n same => n(out),Hangup()');
    expect(unguardedCalls(bypass.ctx, bypass.ext)).toHaveLength(1);
  });
  it('catch missing labels, unbalanced lines, HASH_KEYS and duplicate priorities', () => {
    const { d, ctx, ext } = one(' same => n,Goto(nowhere)\n same => n,Set(K=${HASH_KEYS(r)})\n same => n,Set(X=\\;${HASH(a,b)})');
    expect(resolveTarget(d, ctx, ext, 'nowhere')).toBe(false);
    expect(functionsIn(ext.priorities[2]!)).toEqual(['HASH_KEYS']);
    expect(ext.priorities[3]!.args).toBe('X=;${HASH(a,b)}');
    expect(balanceError('Set(X=${HASH(a,b)')).not.toBeNull();
    expect(findPriority(ext, '4')).toBeDefined();
    expect(() => parseDialplan('[t]\nexten => 1,1,NoOp()\nexten => 1,1,NoOp()')).toThrow(/twice/);
  });
});

const KEYS = ['action', 'dial', 'timeout', 'queue', 'mailbox', 'step', 'reason', 'client_id', 'client_name', 'manager_id', 'call_id', 'tried'];
/** An answer as the service writes it: every key present, values encodeURIComponent-ed. */
const answer = (f: Record<string, string>) => KEYS.map((k) => `${k}=${encodeURIComponent(f[k] ?? '')}`).join('&');
const dial = (to: string, timeout = '20') => answer({ action: 'dial', dial: to, timeout, call_id: 'c1', reason: 'owner' });
const HTML_500 = '<html><body>Internal Server Error</body></html>';

interface Run extends SimResult {
  steps: string[];
  params: URLSearchParams[];
  seen: Map<string, string>[];
}
/** Runs one inbound call: `bodies` are the route answers in order ('' = no answer). */
function call(bodies: string[], outcomes: string[], opts: Partial<SimCall> & { plan?: Dialplan } = {}): Run {
  const seen: Map<string, string>[] = [];
  const result = simulate(opts.plan ?? dp, { context: 'switchboard-inbound', exten: '74951110001', ...opts }, {
    curl: () => bodies.shift() ?? '',
    outcome: (_app, _args, vars) => (seen.push(new Map(vars)), outcomes.shift() ?? 'NOANSWER'),
  });
  expect(result.trace.filter((t) => t.startsWith('FELL OFF'))).toEqual([]);
  expect([...result.undefinedReads]).toEqual([]);
  expect(result.trace.some((t) => /^(Dial|Queue|VoiceMail)\(,/.test(t))).toBe(false);
  const steps = result.trace.filter((t) => !t.startsWith('MixMonitor')).map((t) => (t.startsWith('CURL(') ? 'CURL' : t));
  return { ...result, steps, params: result.urls.map((u) => new URL(u).searchParams), seen };
}

describe('switchboard-inbound, simulated', () => {
  it('rings, records, asks once and ends when the owner answers', () => {
    const r = call([dial('PJSIP/101')], ['ANSWER']);
    expect(r.steps).toEqual(['Ringing()', 'CURL', 'Dial(PJSIP/101,20)', 'Hangup()']);
    expect(r.trace).toContain('MixMonitor(/var/spool/asterisk/monitor/switchboard/1795348783.3.wav,b,)');
    expect(Object.fromEntries(r.params[0]!)).toEqual({
      caller: '79161234567', did: '74951110001', uniqueid: '1795348783.3', linkedid: '1795348783.3',
      step: '1', last_status: '', tried: '', format: 'hash', token: 'change-me',
    });
    expect(r.urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:3000\/pbx\/route\?/);
  });

  it('asks again with the last DIALSTATUS and dials the department at step 2', () => {
    const r = call([dial('PJSIP/101'), dial('PJSIP/200', '30')], ['NOANSWER', 'ANSWER']);
    expect(r.steps).toEqual(['Ringing()', 'CURL', 'Dial(PJSIP/101,20)', 'CURL', 'Dial(PJSIP/200,30)', 'Hangup()']);
    expect(r.urls[1]).toContain('step=2&last_status=NOANSWER');
  });

  it('sends the previous answer\'s `tried` back with the next question, so any instance knows the call\'s steps', () => {
    const first = answer({ action: 'dial', dial: 'PJSIP/101', timeout: '20', reason: 'owner', tried: '1.owner.dial' });
    const second = answer({ action: 'dial', dial: 'PJSIP/200', timeout: '30', reason: 'department', tried: '1.owner.dial-2.department.dial' });
    const r = call([first, second, dial('PJSIP/300')], ['NOANSWER', 'BUSY', 'ANSWER']);
    expect(r.params.map((p) => p.get('tried'))).toEqual(['', '1.owner.dial', '1.owner.dial-2.department.dial']);
  });

  it.each([['down or slower than httptimeout', ''], ['an HTML error page', HTML_500], ['garbage', 'hello'],
    ['an unknown action', answer({ action: 'transfer', dial: 'PJSIP/101' })], ['dial without a dial string', answer({ action: 'dial' })]])(
    'falls back to the department, then its mailbox, when the service answers %s', (_, body) => {
      const r = call([body], ['NOANSWER']);
      expect(r.steps).toEqual(['Ringing()', 'CURL', 'Dial(PJSIP/200,30)', 'VoiceMail(200@default,u)', 'Hangup()']);
    });

  it('does not reuse the previous step when a later step fails (fresh hash name)', () => {
    const r = call([dial('PJSIP/101'), HTML_500], ['NOANSWER', 'ANSWER']);
    expect(r.steps).toEqual(['Ringing()', 'CURL', 'Dial(PJSIP/101,20)', 'CURL', 'Dial(PJSIP/200,30)', 'Hangup()']);
    // The same call with one fixed hash name redials step 1's target: the test can tell.
    const fixed = load(confText.replaceAll('sb${SB_STEP}', 'route'));
    expect(simulate(fixed, { context: 'switchboard-inbound', exten: '74951110001' }, {
      curl: (() => { const b = [dial('PJSIP/101'), HTML_500]; return () => b.shift() ?? ''; })(),
      outcome: (() => { const o = ['NOANSWER', 'ANSWER']; return () => o.shift() ?? ''; })(),
    }).trace.filter((t) => t.startsWith('Dial'))).toEqual(['Dial(PJSIP/101,20)', 'Dial(PJSIP/101,20)']);
  });

  it('an unknown dialled number with no defaults reaches SWITCHBOARD_FALLBACK_DIAL, then its mailbox', () => {
    // The service's real answer for a DID no department lists, no DEFAULT_DEPARTMENT, no FALLBACK_DIAL.
    const routeConfig = { deviceDialTemplate: 'PJSIP/{extension}', mobileDialTemplate: 'PJSIP/{number}@trunk', userMailboxTemplate: '{extension}@default', ringTimeouts: { owner: 20, mobile: 25, department: 30 }, maxSteps: 6 };
    const decision = decideRoute({
      step: 1, lastStatus: '', caller: '+79161234567', did: '+74950000000', now: new Date(), clients: [], owners: [],
      didDepartment: null, ownerDepartments: [], alreadyTried: [], config: routeConfig,
    });
    const r = call([toHashBody(decision, { callId: '1795348783.3' })], ['NOANSWER']);
    expect(r.steps).toEqual(['Ringing()', 'CURL', 'Dial(PJSIP/200,30)', 'VoiceMail(200@default,u)', 'Hangup()']);
    expect(r.urls).toHaveLength(1);
  });

  it('hangs up when told to, without dialling', () => {
    expect(call([answer({ action: 'hangup', reason: 'blacklisted' })], []).steps).toEqual(['Ringing()', 'CURL', 'Hangup()']);
  });

  it('stops asking after SWITCHBOARD_MAX_STEPS, also when the global is empty', () => {
    for (const [max, asks] of [['6', 6], ['3', 3], ['', 6]] as const) {
      const r = call(Array.from({ length: 10 }, () => dial('PJSIP/101')), [], { plan: load(confText, { SWITCHBOARD_MAX_STEPS: max }) });
      expect(r.urls).toHaveLength(asks);
      expect(r.steps.slice(-2)).toEqual(['VoiceMail(200@default,u)', 'Hangup()']);
    }
    const noMailbox = load(confText, { SWITCHBOARD_FALLBACK_MAILBOX: '' });
    expect(call([], [], { plan: noMailbox }).steps.slice(-2)).toEqual(['Dial(PJSIP/200,30)', 'Hangup()']);
  });

  it('queues with ringback, passes QUEUESTATUS on and ends when a member answers', () => {
    const queue = answer({ action: 'queue', queue: 'sales', timeout: '60' });
    const r = call([queue, queue], ['TIMEOUT', '']);
    expect(r.steps).toEqual(['Ringing()', 'CURL', 'Queue(sales,r,,,60)', 'CURL', 'Queue(sales,r,,,60)', 'Hangup()']);
    expect(r.params[1]!.get('last_status')).toBe('TIMEOUT');
  });

  it('leaves voicemail with the busy greeting after BUSY, the unavailable one otherwise', () => {
    const vm = answer({ action: 'voicemail', mailbox: '101@default' });
    expect(call([dial('PJSIP/101'), vm], ['BUSY']).steps.slice(-2)).toEqual(['VoiceMail(101@default,b)', 'Hangup()']);
    expect(call([answer({ action: 'voicemail' })], []).steps.slice(-2)).toEqual(['VoiceMail(200@default,u)', 'Hangup()']);
  });

  it('rings for the fallback timeout when the answer has none', () => {
    expect(call([dial('PJSIP/101', '')], ['ANSWER']).steps).toContain('Dial(PJSIP/101,30)');
  });

  it("shows the client's name, decoding %XX but not '+'", () => {
    const r = call([answer({ action: 'dial', dial: 'PJSIP/101', client_name: 'Иван+Петров Jr' })], ['ANSWER']);
    expect(r.seen[0]!.get('CALLERID(name)')).toBe('Иван+Петров Jr');
    const raw = call([dial('PJSIP/101').replace('client_name=', 'client_name=Ivan+Petrov')], ['ANSWER']);
    expect(raw.seen[0]!.get('CALLERID(name)')).toBe('Ivan+Petrov');
  });

  it("encodes '+', ',' and '&' in the query and accepts a DID with '+'", () => {
    const r = call([dial('PJSIP/101')], ['ANSWER'], { exten: '+74951110001', callerNum: '+7916,12&34' });
    expect(r.urls[0]).toContain('caller=%2B7916%2C12%2634&did=%2B74951110001&');
    expect(r.params[0]!.get('did')).toBe('+74951110001');
    expect(r.steps).toEqual(['Ringing()', 'CURL', 'Dial(PJSIP/101,20)', 'Hangup()']);
  });

  it('expands the documented recording post-command on the channel', () => {
    const example = /^;SWITCHBOARD_RECORDING_POSTCMD=(.*)$/m.exec(globalsText)?.[1] ?? '';
    expect(example).not.toContain(',');
    const r = call([dial('PJSIP/101')], ['ANSWER'], { plan: load(confText, { SWITCHBOARD_RECORDING_POSTCMD: example }) });
    const file = '/var/spool/asterisk/monitor/switchboard/1795348783.3.wav';
    expect(r.trace).toContain(`MixMonitor(${file},b,curl -sf -X PUT --data-binary @${file} -H 'X-Switchboard-Token: change-me' `
      + `-H 'Content-Type: audio/wav' http://127.0.0.1:3000/pbx/recordings/1795348783.3)`);
  });
});

describe('switchboard-outbound, simulated', () => {
  const originate = (vars: Record<string, string>, exten = '79161234567') => {
    const seen: Map<string, string>[] = [];
    const r = simulate(dp, { context: 'switchboard-outbound', exten, callerNum: '101', vars }, {
      curl: () => { throw new Error('no CURL on click-to-call'); },
      outcome: (_a, _b, v) => (seen.push(new Map(v)), 'ANSWER'),
    });
    expect([...r.undefinedReads]).toEqual([]);
    return { trace: r.trace, seen };
  };
  const vars = { SWITCHBOARD_CALL_ID: 'c9', SWITCHBOARD_CLIENT_NAME: '', SWITCHBOARD_DIAL: 'PJSIP/79161234567@trunk', SWITCHBOARD_CALLERID: '74951110000' };

  it('records and dials the customer with the company caller ID', () => {
    const { trace, seen } = originate(vars, '+79161234567');
    expect(trace).toEqual(['MixMonitor(/var/spool/asterisk/monitor/switchboard/1795348783.3.wav,b,)', 'Dial(PJSIP/79161234567@trunk,45)', 'Hangup()']);
    expect(seen[0]!.get('CALLERID(num)')).toBe('74951110000');
  });

  it("keeps the manager's caller ID when none is given and never dials an empty string", () => {
    expect(originate({ ...vars, SWITCHBOARD_CALLERID: '' }).seen[0]!.get('CALLERID(num)')).toBe('101');
    expect(originate({ ...vars, SWITCHBOARD_DIAL: '' }).trace.slice(-1)).toEqual(['Hangup()']);
  });
});

describe('dialplan/manager.conf.sample', () => {
  const user = parseConf(read('manager.conf.sample')).find((s) => s.name === 'switchboard')!;
  const get = (k: string) => user.entries.filter((e) => e.key === k).map((e) => e.value);
  const classes = (k: string) => new Set((get(k)[0] ?? '').split(',').map((c) => c.trim()));

  it('grants the classes the service needs and nothing broad', () => {
    for (const c of ['call', 'cdr', 'dialplan']) expect(classes('read').has(c), c).toBe(true);
    expect(classes('write').has('originate')).toBe(true);
    for (const c of ['all', 'command', 'config', 'system']) expect(classes('write').has(c), c).toBe(false);
    expect(classes('read').has('all')).toBe(false);
    expect(get('deny')).toEqual(['0.0.0.0/0.0.0.0']);
    expect(get('permit').length).toBeGreaterThan(0);
  });

  it('drops the Newexten/VarSet noise and keeps every event the service reads', () => {
    const conf = read('manager.conf.sample');
    const filters = get('eventfilter');
    expect(filters.every((f) => f.startsWith('!'))).toBe(true); // one include filter would drop all the rest
    const exclude = filters.map((f) => new RegExp(f.slice(1), 's')); // POSIX '.' also matches newlines
    const advanced = (name: string) => new RegExp(new RegExp(`^;eventfilter\\(action\\(exclude\\),name\\(${name}\\),header\\(\\w+\\),method\\(regex\\)\\) = (.*)$`, 'm').exec(conf)?.[1] ?? '$^');
    const passes = (e: string) => {
      const verdict = !exclude.some((re) => re.test(e));
      const [, name = '', header = ''] = /^Event: (VarSet|Newexten)\r\n(?:.*\r\n)*?(?:Variable|Application): ([^\r]*)/.exec(e) ?? [];
      if (name) expect(!advanced(name).test(header), `structured form disagrees on ${name} ${header}`).toBe(verdict);
      return verdict;
    };
    const varSet = (v: string) => `Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: PJSIP/t-1\r\nChanVariable: FOO=bar\r\nVariable: ${v}\r\nValue: x\r\n`;
    const newexten = (app: string) => `Event: Newexten\r\nPrivilege: dialplan,all\r\nApplication: ${app}\r\nAppData: x\r\n`;
    for (const v of [...KEPT_VARIABLES, 'SWITCHBOARD_CALL_ID', 'CRM_CALL_ID']) expect(passes(varSet(v)), v).toBe(true);
    for (const { p } of everyPriority(dp)) expect(passes(newexten(p.app)), p.app).toBe(p.app === 'MixMonitor');
    const own = [...call([dial('PJSIP/101'), HTML_500], ['NOANSWER', 'ANSWER']).vars.keys()].filter((k) => /^(SB_|~)/.test(k));
    expect(own.length).toBeGreaterThan(20);
    for (const v of own) expect(passes(varSet(v)), v).toBe(false);

    const dir = new URL('../../../shared/ami-transcripts/', import.meta.url);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ami') && !f.endsWith('.sent.ami')) : [];
    const events = files.flatMap((f) => readFileSync(new URL(f, dir), 'latin1').split('\r\n\r\n').filter((e) => e.startsWith('Event: ')));
    const noise = events.filter((e) => /^Event: (VarSet|Newexten)\r\n/.test(e));
    for (const e of events) if (!noise.includes(e)) expect(passes(e), e.slice(0, 80)).toBe(true);
    if (noise.length) expect(noise.filter((e) => !passes(e)).length / noise.length).toBeGreaterThan(0.6);
  });
});
