/**
 * Templates: strings of the configuration with placeholders in braces. `{credentials.NAME}` is a
 * resolved secret, `{token}` the session token (only where the token is sent); `{{` and `}}` are
 * literal braces. Nothing is evaluated: a placeholder is a name looked up, nothing more.
 */

/** One piece of a template. */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'credential'; name: string }
  | { kind: 'token' };

export type Template = readonly TemplatePart[];

/** What a template may name where it stands. */
export interface TemplateScope {
  credentials: readonly string[];
  /** Whether `{token}` may stand here (how a session token is sent). */
  token: boolean;
}

/** A name as a placeholder may hold it; another text is reported without being echoed. */
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** The parts of `text`, or a problem in words (`expected ..., received ...`). */
export function parseTemplate(text: string, scope: TemplateScope): Template | string {
  const parts: TemplatePart[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (char === '}') {
      if (text[index + 1] !== '}') return 'expected "}}" for a literal "}", received a lone "}"';
      literal += '}';
      index += 2;
      continue;
    }
    if (char !== '{') {
      literal += char;
      index += 1;
      continue;
    }
    if (text[index + 1] === '{') {
      literal += '{';
      index += 2;
      continue;
    }
    const end = text.indexOf('}', index);
    if (end < 0) return 'expected a placeholder closed by "}", received an unclosed "{"';
    const name = text.slice(index + 1, end);
    const part = placeholder(name, scope);
    if (typeof part === 'string') return part;
    if (literal !== '') parts.push({ kind: 'text', text: literal });
    literal = '';
    parts.push(part);
    index = end + 1;
  }
  if (literal !== '') parts.push({ kind: 'text', text: literal });
  return parts;
}

function placeholder(name: string, scope: TemplateScope): TemplatePart | string {
  const allowed = [
    ...scope.credentials.map((credential) => `{credentials.${credential}}`),
    ...(scope.token ? ['{token}'] : []),
  ];
  const expected =
    allowed.length === 0 ? 'no placeholder here' : `a placeholder among ${allowed.join(', ')}`;
  const shown = NAME.test(name) ? `{${name}}` : 'a placeholder that is not a name';
  if (name === 'token' && scope.token) return { kind: 'token' };
  if (name.startsWith('credentials.')) {
    const credential = name.slice('credentials.'.length);
    if (scope.credentials.includes(credential)) return { kind: 'credential', name: credential };
  }
  return `expected ${expected}, received ${shown}`;
}

/** What placeholders stand for when a template is filled in. */
export interface TemplateValues {
  credentials: Readonly<Record<string, string | undefined>>;
  token?: string | undefined;
}

/** The text of a template with its placeholders filled in. */
export function renderTemplate(template: Template, values: TemplateValues): string {
  let text = '';
  for (const part of template) {
    if (part.kind === 'text') text += part.text;
    else if (part.kind === 'token') text += values.token ?? '';
    else text += values.credentials[part.name] ?? '';
  }
  return text;
}
