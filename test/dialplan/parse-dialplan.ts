// A parser for Asterisk extensions.conf syntax and the static checks the dialplan test runs.
// It follows pbx_config: `n` is previous priority + 1, an application's data runs from the first
// '(' to the last ')', `;` starts a comment unless written `\;`. Anything it does not
// understand throws, so a new construct breaks the test instead of being skipped.

export interface Priority {
  priority: number;
  label: string | undefined;
  app: string;
  args: string;
  line: number;
}
export interface Extension {
  pattern: string;
  priorities: Priority[];
}
export interface Context {
  name: string;
  extensions: Extension[];
  includes: string[];
}
export interface Dialplan {
  contexts: Map<string, Context>;
  globals: Map<string, string>;
}
export interface ConfEntry {
  key: string;
  value: string;
  line: number;
}
export interface ConfSection {
  name: string;
  entries: ConfEntry[];
}

export function stripComment(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && line[i + 1] === ';') {
      out += ';';
      i++;
    } else if (c === ';') {
      if (line.startsWith(';--', i)) throw new Error(`block comments are not supported: ${line}`);
      break;
    } else {
      out += c;
    }
  }
  return out.trim();
}

/** Sections of any Asterisk .conf file; entries before the first header go to section ''. */
export function parseConf(text: string): ConfSection[] {
  const sections: ConfSection[] = [{ name: '', entries: [] }];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = stripComment(raw);
    if (line === '') return;
    const header = /^\[([^\]]+)\](\([^)]*\))?$/.exec(line);
    if (header) {
      sections.push({ name: header[1] ?? '', entries: [] });
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`line ${i + 1}: not a key = value line: ${line}`);
    const value = line.slice(eq + 1).replace(/^>/, '').trim();
    sections.at(-1)?.entries.push({ key: line.slice(0, eq).trim(), value, line: i + 1 });
  });
  return sections;
}

/** Splits on `sep` outside (), ${}, $[] and []. */
export function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (c === sep && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function parsePriority(field: string, last: number | undefined, line: number) {
  const m = /^(\d+|n)(?:\(([A-Za-z0-9_-]+)\))?$/.exec(field.trim());
  if (!m) throw new Error(`line ${line}: unsupported priority '${field}'`);
  if (m[1] === 'n' && last === undefined) throw new Error(`line ${line}: 'n' without a previous priority`);
  return { priority: m[1] === 'n' ? (last ?? 0) + 1 : Number(m[1]), label: m[2] };
}

export function parseDialplan(text: string): Dialplan {
  const dp: Dialplan = { contexts: new Map(), globals: new Map() };
  for (const section of parseConf(text)) {
    if (section.name === 'general') continue;
    if (section.name === 'globals') {
      for (const e of section.entries) dp.globals.set(e.key, e.value);
      continue;
    }
    if (section.name === '' && section.entries.length === 0) continue;
    const ctx: Context = { name: section.name, extensions: [], includes: [] };
    dp.contexts.set(section.name, ctx);
    let current: Extension | undefined;
    for (const e of section.entries) {
      if (e.key === 'include') {
        ctx.includes.push(e.value);
        continue;
      }
      if (e.key !== 'exten' && e.key !== 'same') throw new Error(`line ${e.line}: unknown directive ${e.key}`);
      const fields = splitTop(e.value, ',');
      if (e.key === 'exten') {
        const pattern = (fields.shift() ?? '').trim();
        current = ctx.extensions.find((x) => x.pattern === pattern);
        if (!current) ctx.extensions.push((current = { pattern, priorities: [] }));
      } else if (!current) {
        throw new Error(`line ${e.line}: 'same' before any 'exten'`);
      }
      const { priority, label } = parsePriority(fields.shift() ?? '', current.priorities.at(-1)?.priority, e.line);
      const appText = fields.join(',').trim();
      const open = appText.indexOf('(');
      const close = appText.lastIndexOf(')');
      if (open >= 0 && close < open) throw new Error(`line ${e.line}: no closing parenthesis`);
      const app = (open >= 0 ? appText.slice(0, open) : appText).trim();
      const args = open >= 0 ? appText.slice(open + 1, close) : '';
      if (current.priorities.some((p) => p.priority === priority)) {
        throw new Error(`line ${e.line}: priority ${priority} of ${current.pattern} defined twice`);
      }
      current.priorities.push({ priority, label, app, args, line: e.line });
    }
  }
  return dp;
}

/** Asterisk extension pattern match (X Z N . ! [..] and literals; '-' is ignored). */
export function matchPattern(pattern: string, exten: string): boolean {
  if (!pattern.startsWith('_')) return pattern === exten;
  let re = '';
  const p = pattern.slice(1);
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? '';
    if (c === 'X') re += '[0-9]';
    else if (c === 'Z') re += '[1-9]';
    else if (c === 'N') re += '[2-9]';
    else if (c === '.') re += '.+';
    else if (c === '!') re += '.*';
    else if (c === '-') continue;
    else if (c === '[') {
      const end = p.indexOf(']', i);
      re += `[${p.slice(i + 1, end).replace(/[\\^\]]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(exten);
}

export function findExtension(ctx: Context, exten: string): Extension | undefined {
  return ctx.extensions.find((e) => e.pattern === exten) ?? ctx.extensions.find((e) => matchPattern(e.pattern, exten));
}

export function findPriority(ext: Extension, target: string): Priority | undefined {
  const t = target.trim();
  return /^\d+$/.test(t) ? ext.priorities.find((p) => p.priority === Number(t)) : ext.priorities.find((p) => p.label === t);
}

/** The targets of a Goto/GotoIf, with the condition for GotoIf. */
export function jumpsOf(p: Priority): { cond: string | undefined; targets: string[] } {
  if (p.app === 'Goto') return { cond: undefined, targets: [p.args] };
  if (p.app !== 'GotoIf') return { cond: undefined, targets: [] };
  const [cond, branches] = splitTop(p.args, '?');
  if (cond === undefined || branches === undefined) throw new Error(`line ${p.line}: GotoIf without '?'`);
  return { cond, targets: splitTop(branches, ':').filter((t) => t.trim() !== '') };
}

/** Whether a Goto target exists. A computed extension (${...}) needs the label in some extension. */
export function resolveTarget(dp: Dialplan, ctx: Context, ext: Extension, target: string): boolean {
  const parts = splitTop(target, ',').map((x) => x.trim());
  const pri = parts.at(-1) ?? '';
  const ctxName = parts.length === 3 ? parts[0] ?? '' : ctx.name;
  const targetCtx = dp.contexts.get(ctxName);
  if (!targetCtx || parts.length > 3) return false;
  if (parts.length === 1) return findPriority(ext, pri) !== undefined;
  const exten = parts[parts.length - 2] ?? '';
  if (exten.includes('${')) return targetCtx.extensions.some((e) => findPriority(e, pri) !== undefined);
  const targetExt = findExtension(targetCtx, exten);
  return targetExt !== undefined && findPriority(targetExt, pri) !== undefined;
}

/** Null when (), ${}, ^{} and $[] / [] nest properly, else what is wrong. */
export function balanceError(s: string): string | null {
  const stack: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ((c === '$' || c === '^') && s[i + 1] === '{') {
      stack.push('}');
      i++;
    } else if (c === '(') stack.push(')');
    else if (c === '[') stack.push(']');
    else if (c === '{') return `bare '{' at ${i}`;
    else if (c === ')' || c === '}' || c === ']') {
      if (stack.pop() !== c) return `unexpected '${c}' at ${i}`;
    }
  }
  return stack.length ? `unclosed, expected '${stack.join('')}'` : null;
}

/** Dialplan functions called in an application's data, including the left side of Set(). */
export function functionsIn(p: Priority): string[] {
  const names = [...p.args.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\(/g)].map((m) => m[1] ?? '');
  const left = p.app === 'Set' ? /^([A-Za-z_][A-Za-z0-9_]*)\(/.exec(p.args) : null;
  return left?.[1] ? [left[1], ...names] : names;
}

/**
 * Problems with the first argument of Dial/Queue/VoiceMail in one extension: it must be one
 * plain variable, the nearest earlier GotoIf on it must leave when it is empty, nothing may
 * assign it in between, and a label in between may only be reached from a GotoIf that checked
 * it non-empty.
 */
export function unguardedCalls(ctx: Context, ext: Extension, apps = ['Dial', 'Queue', 'VoiceMail']): string[] {
  const problems: string[] = [];
  const all = ctx.extensions.flatMap((e) => e.priorities);
  ext.priorities.forEach((p, idx) => {
    if (!apps.includes(p.app)) return;
    const v = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec((splitTop(p.args, ',')[0] ?? '').trim())?.[1];
    if (!v) return problems.push(`line ${p.line}: ${p.app} needs a plain variable first`);
    let guard = -1;
    for (let i = idx - 1; i >= 0 && guard < 0; i--) {
      const q = ext.priorities[i];
      if (!q) break;
      if (q.app === 'Set' && q.args.startsWith(`${v}=`)) return problems.push(`line ${p.line}: ${v} set after its check`);
      if (q.app === 'GotoIf' && (jumpsOf(q).cond ?? '').includes(`\${${v}}`)) guard = i;
    }
    const g = ext.priorities[guard];
    if (!g || !(jumpsOf(g).cond ?? '').includes(`"\${${v}}" = ""`)) {
      return problems.push(`line ${p.line}: no GotoIf($["\${${v}}" = ""]?...) before ${p.app}`);
    }
    for (const between of ext.priorities.slice(guard + 1, idx + 1)) {
      if (!between.label) continue;
      for (const src of all) {
        const { cond, targets } = jumpsOf(src);
        targets.forEach((t, branch) => {
          if (splitTop(t, ',').at(-1)?.trim() !== between.label) return;
          if (branch !== 0 || !(cond ?? '').includes(`"\${${v}}" != ""`)) {
            problems.push(`line ${src.line}: jumps to '${between.label}' past the check of ${v}`);
          }
        });
      }
    }
    return undefined;
  });
  return problems;
}
