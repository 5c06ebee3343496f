// Dial strings and mailboxes built from configured templates: `PJSIP/{extension}`,
// `PJSIP/{number}@trunk`, `{extension}@default`.
//
// The dialplan runs `Dial(${HASH(r,dial)},${HASH(r,timeout)})`: Asterisk substitutes the
// variables first and splits the arguments on commas afterwards, so a comma inside `dial`
// would become the timeout argument. Whitespace and control characters have no place in a
// dial string either. Substituted values are restricted to a safe alphabet so that an odd
// extension in the database (`100&PJSIP/200`) cannot add a target of its own.

export const DEVICE_TEMPLATE_VARS = ['extension'] as const;
/** `{number}`: E.164 digits without `+` (what trunks usually want); `{e164}`: with `+`. */
export const MOBILE_TEMPLATE_VARS = ['number', 'e164'] as const;
export const MAILBOX_TEMPLATE_VARS = ['extension'] as const;

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;
const SAFE_VALUE = /^[A-Za-z0-9_*#+.-]{1,64}$/;

/** Why `value` cannot be passed as one argument of Dial()/Queue()/VoiceMail(), else null. */
export function dialStringProblem(value: string): string | null {
  if (value.length === 0) return 'is empty';
  if (value.includes(',')) return 'contains a comma, which would split the Dial() arguments';
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029]/.test(value)) {
    return 'contains whitespace or a control character';
  }
  if (/[{}]/.test(value)) return 'contains an unfilled {placeholder}';
  return null;
}

/**
 * Fills `{name}` placeholders. Null when a placeholder has no (safe) value or the result is
 * not a usable argument: the caller then skips the target rather than dial garbage.
 */
export function fillTemplate(
  template: string,
  vars: Readonly<Record<string, string | null | undefined>>,
): string | null {
  const { literals, names } = compiled(template);
  let filled = literals[0]!;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (typeof value !== 'string' || !SAFE_VALUE.test(value)) return null;
    filled += value + literals[i + 1]!;
  }
  return dialStringProblem(filled) === null ? filled : null;
}

// A template split once into its literal parts and placeholder names: `replace` with a callback
// on every ring cost more than the rest of the routing decision. Templates come from the
// configuration, so there are a handful.
interface CompiledTemplate {
  /** One more than `names`: text before, between and after the placeholders. */
  literals: string[];
  names: string[];
}
const compiledTemplates = new Map<string, CompiledTemplate>();

function compiled(template: string): CompiledTemplate {
  let found = compiledTemplates.get(template);
  if (found === undefined) {
    const literals: string[] = [];
    const names: string[] = [];
    let last = 0;
    for (const m of template.matchAll(PLACEHOLDER)) {
      literals.push(template.slice(last, m.index));
      names.push(m[1]!);
      last = m.index + m[0].length;
    }
    literals.push(template.slice(last));
    found = { literals, names };
    if (compiledTemplates.size < 100) compiledTemplates.set(template, found);
  }
  return found;
}

/** Problems with a configured template, as messages; empty when valid. */
export function validateTemplate(template: string, allowed: readonly string[]): string[] {
  const errors: string[] = [];
  const used = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
  for (const name of used) {
    if (!allowed.includes(name)) {
      errors.push(`unknown placeholder {${name}} (allowed: ${allowed.map((a) => `{${a}}`).join(', ')})`);
    }
  }
  if (!used.some((name) => allowed.includes(name))) {
    errors.push(`must use ${allowed.map((a) => `{${a}}`).join(' or ')}`);
  }
  if (errors.length === 0) {
    const sample = template.replace(PLACEHOLDER, '1');
    const problem = dialStringProblem(sample);
    if (problem !== null) errors.push(`template ${problem}`);
  }
  return errors;
}
