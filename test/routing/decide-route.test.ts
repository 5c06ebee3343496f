import { describe, expect, it } from 'vitest';
import type { WeeklySchedule } from '../../src/routing/business-hours.js';
import { decideRoute, fallbackDecision, pickClient } from '../../src/routing/decide-route.js';
import type {
  AbsentRule, Presence, RouteClient, RouteConfig, RouteDecision, RouteDepartment, RouteInput,
  RouteOwner, TriedStep,
} from '../../src/routing/types.js';

const office: WeeklySchedule = {
  mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']],
  thu: [['09:00', '18:00']], fri: [['09:00', '18:00']],
};
const WED_NOON = new Date('2025-01-15T09:00:00Z'); // 12:00 in Moscow
const WED_NIGHT = new Date('2025-01-15T17:00:00Z'); // 20:00 in Moscow

const config: RouteConfig = {
  deviceDialTemplate: 'PJSIP/{extension}',
  mobileDialTemplate: 'PJSIP/{number}@trunk',
  userMailboxTemplate: '{extension}@default',
  ringTimeouts: { owner: 20, mobile: 25, department: 40 },
  maxSteps: 5,
};
// The owner's department: a queue, always open.
const sales: RouteDepartment = {
  id: 10, name: 'Sales', line: { kind: 'queue', queue: 'sales' }, voicemailBox: '900@default',
  businessHours: null, timeZone: 'Europe/Moscow',
};
// The dialled number's department: a ring group, office hours.
const support: RouteDepartment = {
  id: 20, name: 'Support', line: { kind: 'dial', dial: 'PJSIP/200&PJSIP/201' }, voicemailBox: '901@default',
  businessHours: office, timeZone: 'Europe/Moscow',
};
const owner = (over: Partial<RouteOwner> = {}): RouteOwner => ({
  id: 7, name: 'Anna', extension: '101', mobile: '+79031112233', presence: 'available',
  absentRule: 'mobile', departmentId: 10, ...over,
});
const client = (over: Partial<RouteClient> = {}): RouteClient => ({
  id: 42, name: 'Иван Петров', ownerId: 7, lastActivityAt: new Date('2025-01-10T10:00:00Z'), ...over,
});
const input = (over: Partial<RouteInput> = {}): RouteInput => ({
  step: 1, lastStatus: '', caller: '+79161234567', did: '+74951110001', now: WED_NOON,
  clients: [client()], owners: [owner()], didDepartment: support, ownerDepartments: [sales],
  alreadyTried: [], config, ...over,
});

const short = (d: RouteDecision) => `${d.action}:${d.reason}:${d.dial ?? d.queue ?? d.mailbox ?? ''}`;

/** Asks step after step like the dialplan (nobody answers) until hangup or fallback. */
function walk(over: Partial<RouteInput>, withTrace: boolean): string[] {
  const seen: string[] = [];
  const tried: TriedStep[] = [];
  for (let step = 1; step <= 10; step += 1) {
    const d = decideRoute(input({ ...over, step, lastStatus: step === 1 ? '' : 'NOANSWER', alreadyTried: withTrace ? tried : [] }));
    seen.push(short(d));
    // Both end the dialplan's asking: `fallback` goes on in the dialplan alone.
    if (d.action === 'hangup' || d.action === 'fallback') break;
    tried.push({ step, reason: d.reason, action: d.action });
  }
  return seen;
}

const OWNER = 'dial:owner:PJSIP/101';
const MOBILE = 'dial:owner_mobile:PJSIP/79031112233@trunk';
const DEPT = 'queue:department:sales';
const VM_OWNER = 'voicemail:voicemail:101@default';
const VM_DEPT = 'voicemail:voicemail:900@default';
const END = 'hangup:steps_exhausted:';

describe('known client: the chain for each absence rule and presence', () => {
  const rows: Array<[AbsentRule, Presence, string[]]> = [
    ['mobile', 'available', [OWNER, MOBILE, DEPT, VM_OWNER, END]],
    ['mobile', 'away', [MOBILE, DEPT, VM_OWNER, END]],
    ['mobile', 'offline', [OWNER, MOBILE, DEPT, VM_OWNER, END]], // no screen is no reason to skip the phone
    ['mobile', 'dnd', [DEPT, VM_OWNER, END]], // do-not-disturb: not even the mobile
    ['department', 'available', [OWNER, DEPT, VM_DEPT, END]],
    ['department', 'away', [DEPT, VM_DEPT, END]],
    ['department', 'dnd', [DEPT, VM_DEPT, END]],
    ['department', 'offline', [OWNER, DEPT, VM_DEPT, END]],
    ['voicemail', 'available', [OWNER, VM_OWNER, END]],
    ['voicemail', 'away', [VM_OWNER, END]],
    ['voicemail', 'dnd', [VM_OWNER, END]],
    ['voicemail', 'offline', [OWNER, VM_OWNER, END]],
  ];
  describe.each([true, false])('with trace: %s', (withTrace) => {
    it.each(rows)('rule %s, presence %s', (absentRule, presence, expected) => {
      expect(walk({ owners: [owner({ absentRule, presence })] }, withTrace)).toEqual(expected);
    });
  });

  it('answers with timeouts, client, manager and department', () => {
    const first = decideRoute(input());
    expect(first).toMatchObject({ action: 'dial', dial: 'PJSIP/101', timeout: 20, step: 1, reason: 'owner', clientId: 42, clientName: 'Иван Петров', managerId: 7, tie: false });
    const mobile = decideRoute(input({ step: 2, alreadyTried: [{ step: 1, reason: 'owner', action: 'dial' }] }));
    expect(mobile).toMatchObject({ timeout: 25, managerId: 7 });
    const dept = decideRoute(input({ owners: [owner({ presence: 'dnd' })] }));
    expect(dept).toMatchObject({ action: 'queue', queue: 'sales', timeout: 40, departmentId: 10, clientId: 42, managerId: 7 });
    expect(dept.dial).toBeUndefined();
  });

  it('lists what was considered and why it was skipped', () => {
    expect(decideRoute(input({ owners: [owner({ presence: 'away' })] })).candidates).toEqual([
      { target: 'owner', userId: 7, skipped: 'presence:away' },
      { target: 'owner_mobile', userId: 7, chosen: true },
      { target: 'department', departmentId: 10 },
      { target: 'voicemail', departmentId: 10 },
    ]);
  });

  it.each([
    ['inuse', 'device:inuse'], ['busy', 'device:busy'], ['unavailable', 'device:unavailable'],
  ] as const)('skips an available owner whose device is %s', (deviceState, skipped) => {
    const d = decideRoute(input({ owners: [owner({ deviceState })] }));
    expect(short(d)).toBe(MOBILE);
    expect(d.candidates[0]).toEqual({ target: 'owner', userId: 7, skipped });
  });

  it.each(['idle', 'ringing', 'unknown', undefined] as const)('rings an owner whose device is %s', (deviceState) => {
    expect(short(decideRoute(input({ owners: [owner({ deviceState })] })))).toBe(OWNER);
  });

  it('an owner without a screen (offline) is judged by the phone alone', () => {
    expect(short(decideRoute(input({ owners: [owner({ presence: 'offline', deviceState: 'idle' })] })))).toBe(OWNER);
    const d = decideRoute(input({ owners: [owner({ presence: 'offline', deviceState: 'unavailable' })] }));
    expect(short(d)).toBe(MOBILE);
    expect(d.candidates[0]).toEqual({ target: 'owner', userId: 7, skipped: 'device:unavailable' });
  });

  it.each([
    [{ mobile: null }, 'no_mobile'],
    [{ mobile: '89031112233' }, 'no_mobile'], // not E.164
  ])('skips the mobile: %j', (over, skipped) => {
    const d = decideRoute(input({ owners: [owner({ presence: 'away', ...over })] }));
    expect(short(d)).toBe(DEPT);
    expect(d.candidates[1]).toEqual({ target: 'owner_mobile', userId: 7, skipped });
  });

  it('without an extension: no desk phone, and the department box instead of the owner box', () => {
    const over = { owners: [owner({ extension: null, absentRule: 'voicemail' })] };
    const d = decideRoute(input(over));
    expect(short(d)).toBe(VM_DEPT);
    expect(d.candidates[0]).toEqual({ target: 'owner', userId: 7, skipped: 'no_extension' });
  });
});

describe('ties', () => {
  const at = (iso: string | null) => (iso === null ? null : new Date(iso));
  it.each([
    ['most recent activity wins', [client({ id: 1, lastActivityAt: at('2025-01-01T00:00:00Z') }), client({ id: 2, lastActivityAt: at('2025-01-09T00:00:00Z') })], 2],
    ['nulls last', [client({ id: 1, lastActivityAt: null }), client({ id: 2, lastActivityAt: at('2020-01-01T00:00:00Z') })], 2],
    ['all null: lowest id', [client({ id: 9, lastActivityAt: null }), client({ id: 3, lastActivityAt: null })], 3],
    ['same time: lowest id', [client({ id: 9 }), client({ id: 3 }), client({ id: 5 })], 3],
    ['bigint ids as strings compare by value', [client({ id: '10' }), client({ id: '9' })], '9'],
    ['an invalid date counts as null', [client({ id: 1, lastActivityAt: new Date('x') }), client({ id: 2, lastActivityAt: null })], 1],
  ] as const)('%s', (_name, clients, expectedId) => {
    expect(pickClient(clients)?.id).toBe(expectedId);
    const d = decideRoute(input({ clients }));
    expect(d.clientId).toBe(expectedId);
    expect(d.tie).toBe(true);
  });

  it('rings the chosen client\'s owner', () => {
    const clients = [client({ id: 1, ownerId: 7, lastActivityAt: null }), client({ id: 2, ownerId: 8 })];
    const d = decideRoute(input({ clients, owners: [owner(), owner({ id: 8, extension: '108' })] }));
    expect(d).toMatchObject({ clientId: 2, managerId: 8, dial: 'PJSIP/108', tie: true });
  });

  it('a deactivated owner never wins a tie, however recent their client', () => {
    const clients = [client({ id: 1, ownerId: 9, lastActivityAt: at('2025-01-14T00:00:00Z') }), client({ id: 2, ownerId: 8, lastActivityAt: null })];
    const active = owner({ id: 8, extension: '108' });
    for (const owners of [[active], [owner({ id: 9, extension: '109', active: false }), active]]) {
      expect(pickClient(clients, owners)?.id).toBe(2);
      const d = decideRoute(input({ clients, owners }));
      expect(d).toMatchObject({ clientId: 2, managerId: 8, dial: 'PJSIP/108', tie: true });
      expect(d.tieClients).toEqual([
        { clientId: 2, ownerId: 8, ownerActive: true, lastActivityAt: null, chosen: true },
        { clientId: 1, ownerId: 9, ownerActive: false, lastActivityAt: '2025-01-14T00:00:00.000Z' },
      ]);
    }
    // Without owners to judge by, activity decides: the rule above is the owners' doing.
    expect(pickClient(clients)?.id).toBe(1);
  });

  it('a client without any owner loses to one with an active owner', () => {
    const clients = [client({ id: 1, ownerId: null }), client({ id: 2, ownerId: 7, lastActivityAt: null })];
    expect(decideRoute(input({ clients }))).toMatchObject({ clientId: 2, managerId: 7, reason: 'owner' });
  });

  it('one client is no tie; no client is no tie', () => {
    expect(decideRoute(input()).tieClients).toBeUndefined();
    expect(decideRoute(input()).tie).toBe(false);
    expect(decideRoute(input({ clients: [] })).tie).toBe(false);
  });
});

describe('departments', () => {
  it('unknown caller: DID department line, then its voicemail', () => {
    expect(walk({ clients: [] }, true)).toEqual(['dial:unknown_caller:PJSIP/200&PJSIP/201', 'voicemail:voicemail:901@default', END]);
    expect(decideRoute(input({ clients: [] }))).toMatchObject({ timeout: 40, departmentId: 20, clientId: undefined, managerId: undefined });
  });

  it('a caller that did not parse is unknown even if clients were passed', () => {
    const d = decideRoute(input({ caller: null }));
    expect(d).toMatchObject({ reason: 'unknown_caller', tie: false, clientId: undefined });
  });

  it('a known client goes to the owner\'s department, not the DID\'s', () => {
    expect(decideRoute(input({ owners: [owner({ absentRule: 'department', presence: 'away' })] }))).toMatchObject({ queue: 'sales', departmentId: 10 });
  });

  it('falls back to the DID department when the owner\'s is not loaded', () => {
    const d = decideRoute(input({ ownerDepartments: [], owners: [owner({ absentRule: 'department', presence: 'away' })] }));
    expect(d).toMatchObject({ reason: 'department', dial: 'PJSIP/200&PJSIP/201', departmentId: 20 });
  });

  it.each([[null], [99]])('a client whose owner (%s) is not loaded goes to the DID department', (ownerId) => {
    const d = decideRoute(input({ clients: [client({ ownerId })] }));
    expect(d).toMatchObject({ reason: 'department', dial: 'PJSIP/200&PJSIP/201', clientId: 42, managerId: undefined });
    expect(d.candidates[0]).toEqual({ target: 'owner', skipped: 'no_owner' });
  });

  it('no department at all: the configured default line and mailbox', () => {
    const cfg = { ...config, defaultLine: { kind: 'dial' as const, dial: 'PJSIP/100' }, defaultMailbox: '100@default' };
    expect(walk({ clients: [], didDepartment: null, config: cfg }, true)).toEqual(['dial:unknown_caller:PJSIP/100', 'voicemail:voicemail:100@default', END]);
    expect(decideRoute(input({ clients: [], didDepartment: null, config: cfg })).departmentId).toBeUndefined();
  });

  it('no department and no defaults: the dialplan\'s own fallback takes the caller, never a hangup', () => {
    const d = decideRoute(input({ clients: [], didDepartment: null }));
    expect(short(d)).toBe('fallback:no_department:');
    expect(d.candidates).toEqual([{ target: 'department', skipped: 'no_line' }, { target: 'voicemail', skipped: 'no_mailbox' }]);
    // Also a client without an owner, and after the default line rang without an answer.
    expect(short(decideRoute(input({ clients: [client({ ownerId: null })], didDepartment: null })))).toBe('fallback:no_department:');
    const cfg = { ...config, defaultLine: { kind: 'dial' as const, dial: 'PJSIP/100' } };
    expect(walk({ clients: [], didDepartment: null, config: cfg }, true)).toEqual(['dial:unknown_caller:PJSIP/100', 'fallback:no_department:']);
    // The owner's mobile rang; nobody else is known: still the dialplan's fallback.
    const roaming = owner({ extension: null, departmentId: null, presence: 'away' });
    expect(walk({ owners: [roaming], ownerDepartments: [], didDepartment: null }, true)).toEqual([MOBILE, 'fallback:no_department:']);
  });

  it('a department with nothing usable hands over too; a closed one without a box hangs up as after_hours', () => {
    const broken = { ...support, line: { kind: 'dial' as const, dial: 'PJSIP/200,30' }, voicemailBox: null };
    expect(short(decideRoute(input({ clients: [], didDepartment: broken })))).toBe('fallback:no_target:');
    expect(short(decideRoute(input({ clients: [], didDepartment: { ...support, voicemailBox: null }, now: WED_NIGHT })))).toBe('hangup:after_hours:');
  });

  it('a department without a line goes to voicemail; without a box the chain ends', () => {
    expect(walk({ clients: [], didDepartment: { ...support, line: null } }, true)).toEqual(['voicemail:voicemail:901@default', END]);
    expect(walk({ clients: [], didDepartment: { ...support, voicemailBox: null } }, true)).toEqual(['dial:unknown_caller:PJSIP/200&PJSIP/201', END]);
  });
});

describe('after hours', () => {
  const closedSales = { ...sales, businessHours: office };
  it('unknown caller: no department line, voicemail with reason after_hours', () => {
    const d = decideRoute(input({ clients: [], now: WED_NIGHT }));
    expect(short(d)).toBe('voicemail:after_hours:901@default');
    expect(d.candidates[0]).toEqual({ target: 'department', departmentId: 20, skipped: 'after_hours' });
    expect(walk({ clients: [], now: WED_NIGHT }, true)).toEqual(['voicemail:after_hours:901@default', END]);
  });

  it('an available owner is still rung first; mobile and department are skipped', () => {
    expect(walk({ ownerDepartments: [closedSales], now: WED_NIGHT }, true)).toEqual([OWNER, 'voicemail:after_hours:101@default', END]);
  });

  it('config.mobileAfterHours rings the mobile after hours', () => {
    const cfg = { ...config, mobileAfterHours: true };
    expect(walk({ ownerDepartments: [closedSales], now: WED_NIGHT, config: cfg }, true)).toEqual([OWNER, MOBILE, 'voicemail:after_hours:101@default', END]);
  });

  it('uses the hours of the department whose line would ring', () => {
    // The DID department (support) is closed, the owner's (sales) is open.
    expect(short(decideRoute(input({ now: WED_NIGHT, owners: [owner({ presence: 'away', absentRule: 'department' })] })))).toBe(DEPT);
  });

  it('a department in an unknown time zone counts as open', () => {
    expect(short(decideRoute(input({ clients: [], now: WED_NIGHT, didDepartment: { ...support, timeZone: 'Mars/Olympus' } })))).toBe('dial:unknown_caller:PJSIP/200&PJSIP/201');
  });
});

describe('steps, statuses and the trace', () => {
  const tried = (...entries: Array<[number, string, string]>) => entries.map(([step, reason, action]) => ({ step, reason, action }));

  it.each(['ANSWER', 'answer', ' ANSWER '])('lastStatus %j on step > 1 hangs up', (lastStatus) => {
    expect(decideRoute(input({ step: 2, lastStatus }))).toMatchObject({ action: 'hangup', reason: 'steps_exhausted', clientId: 42 });
  });

  it('lastStatus ANSWER on step 1 is ignored', () => {
    expect(short(decideRoute(input({ lastStatus: 'ANSWER' })))).toBe(OWNER);
  });

  it.each(['NOANSWER', 'BUSY', 'CHANUNAVAIL', 'CONGESTION', 'CANCEL', 'DONTCALL', 'TORTURE', 'INVALIDARGS', 'TIMEOUT', 'FULL', 'JOINEMPTY', 'LEAVEEMPTY', 'JOINUNAVAIL', 'LEAVEUNAVAIL', 'CONTINUE', '', 'garbage'])('lastStatus %j moves on', (lastStatus) => {
    expect(short(decideRoute(input({ step: 2, lastStatus, alreadyTried: tried([1, 'owner', 'dial']) })))).toBe(MOBILE);
  });

  it.each([[0], [-5], [Number.NaN], [1.7]])('step %s is treated as 1', (step) => {
    expect(decideRoute(input({ step }))).toMatchObject({ step: 1, reason: 'owner' });
  });

  it('past maxSteps hangs up even with targets left', () => {
    const cfg = { ...config, maxSteps: 2 };
    expect(walk({ config: cfg }, true)).toEqual([OWNER, MOBILE, END]);
    expect(short(decideRoute(input({ step: 3, config: { ...config, maxSteps: 0 } })))).toBe(DEPT); // invalid: default 5
  });

  it('the trace wins over step numbering when presence changed mid-call', () => {
    const away = [owner({ presence: 'away' })];
    // Step 1 rang the owner; now the owner is away.
    expect(short(decideRoute(input({ step: 2, owners: away, alreadyTried: tried([1, 'owner', 'dial']) })))).toBe(MOBILE);
    // Without the trace, step 2 takes the 2nd possible target of the plan as it is now.
    expect(short(decideRoute(input({ step: 2, owners: away })))).toBe(DEPT);
  });

  it('an owner who came back is rung before the rest', () => {
    expect(short(decideRoute(input({ step: 2, alreadyTried: tried([1, 'owner_mobile', 'dial']) })))).toBe(OWNER);
  });

  it('asking twice for a step answers the same (trace of this step ignored)', () => {
    const d = decideRoute(input({ step: 2, alreadyTried: tried([1, 'owner', 'dial'], [2, 'owner_mobile', 'dial']) }));
    expect(short(d)).toBe(MOBILE);
  });

  it('steps missing from the trace use up the next targets', () => {
    const d = decideRoute(input({ step: 3, alreadyTried: tried([1, 'owner', 'dial']) }));
    expect(short(d)).toBe(DEPT);
    expect(d.candidates.map((c) => c.skipped ?? (c.chosen ? 'chosen' : ''))).toEqual(['already_tried', 'step_passed', 'chosen', '']);
  });

  it('voicemail ends the chain, whatever is untried', () => {
    expect(short(decideRoute(input({ step: 2, alreadyTried: tried([1, 'after_hours', 'voicemail']) })))).toBe(END);
  });

  it('a fallback answer in the trace counts as the department line', () => {
    expect(short(decideRoute(input({ clients: [], step: 2, alreadyTried: tried([1, 'fallback_error', 'dial']) })))).toBe('voicemail:voicemail:901@default');
  });

  it('is pure: same input, same output, input untouched', () => {
    const i = input({ step: 2, alreadyTried: tried([1, 'owner', 'dial']) });
    const copy = structuredClone(i);
    expect(decideRoute(i)).toEqual(decideRoute(i));
    expect(i).toEqual(copy);
  });
});

describe('templates', () => {
  it.each([
    [{ deviceDialTemplate: 'SIP/{extension}' }, {}, 'SIP/101'],
    [{ mobileDialTemplate: 'PJSIP/{e164}@trunk' }, { presence: 'away' as const }, 'PJSIP/+79031112233@trunk'],
    [{ mobileDialTemplate: 'Local/8{number}@out' }, { presence: 'away' as const }, 'Local/879031112233@out'],
    [{ userMailboxTemplate: '{extension}@sales' }, { absentRule: 'voicemail' as const, presence: 'away' as const }, '101@sales'],
  ])('%j', (cfg, ownerOver, expected) => {
    const d = decideRoute(input({ config: { ...config, ...cfg }, owners: [owner(ownerOver)] }));
    expect(d.dial ?? d.mailbox).toBe(expected);
  });

  it.each([
    ['an unknown placeholder', { config: { ...config, deviceDialTemplate: 'PJSIP/{ext}' } }],
    ['an extension that adds a target', { owners: [owner({ extension: '101&PJSIP/666' })] }],
    ['an extension with a comma', { owners: [owner({ extension: '101,5' })] }],
  ])('skips the owner for %s', (_name, over) => {
    const d = decideRoute(input(over));
    expect(short(d)).toBe(MOBILE);
    expect(d.candidates[0]?.skipped).toBe('bad_target');
  });

  it('skips a department line that would break Dial()', () => {
    const d = decideRoute(input({ clients: [], didDepartment: { ...support, line: { kind: 'dial', dial: 'PJSIP/200,30' } } }));
    expect(short(d)).toBe('voicemail:voicemail:901@default');
    expect(d.candidates[0]?.skipped).toBe('bad_target');
  });
});

describe('fallbackDecision', () => {
  it.each([
    [1, 'queue:fallback_error:sales'],
    [2, 'queue:fallback_error:sales'],
    [3, 'voicemail:fallback_error:900@default'],
    [4, END],
  ])('department, step %i → %s', (step, expected) => {
    expect(short(fallbackDecision(sales, config, step))).toBe(expected);
  });

  it('uses the default line and mailbox without a department', () => {
    const cfg = { ...config, defaultLine: { kind: 'dial' as const, dial: 'PJSIP/100' }, defaultMailbox: '100@default' };
    expect(fallbackDecision(null, cfg, 1)).toMatchObject({ action: 'dial', dial: 'PJSIP/100', timeout: 40, reason: 'fallback_error', tie: false });
    expect(short(fallbackDecision(null, { ...cfg, defaultLine: null }, 1))).toBe('voicemail:fallback_error:100@default');
    expect(short(fallbackDecision(null, { ...cfg, defaultLine: null }, 2))).toBe(END);
    expect(short(fallbackDecision(null, config, 1))).toBe('fallback:fallback_error:');
    expect(short(fallbackDecision({ ...support, voicemailBox: null }, config, 1, { now: WED_NIGHT }))).toBe('hangup:after_hours:');
  });

  it('honours ANSWER, maxSteps and, when given the time, business hours', () => {
    expect(fallbackDecision(sales, config, 2, { lastStatus: 'ANSWER' })).toMatchObject({ action: 'hangup', reason: 'steps_exhausted' });
    expect(short(fallbackDecision(sales, { ...config, maxSteps: 1 }, 2))).toBe(END);
    expect(short(fallbackDecision(support, config, 1, { now: WED_NIGHT }))).toBe('voicemail:fallback_error:901@default');
    expect(short(fallbackDecision(support, config, 1))).toBe('dial:fallback_error:PJSIP/200&PJSIP/201');
  });
});
