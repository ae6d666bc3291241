import type { RestConfig } from './config.js';
import { parseTemplate, renderTemplate, type TemplateValues } from './template.js';

/**
 * The configuration's templates made ready to fill in: parsed once when the adapter is built
 * (the configuration was checked, so each parses), filled in per call.
 */

export type Render<T> = (values: TemplateValues) => T;

export function compileTemplate(text: string, config: RestConfig, token: boolean): Render<string> {
  const template = parseTemplate(text, { credentials: Object.keys(config.credentials), token });
  if (typeof template === 'string') throw new Error(`${config.id}: ${template}`);
  // A template with no placeholder is its own text, every time.
  if (template.every((part) => part.kind === 'text'))
    return () =>
      renderTemplate(template, {
        credentials: {},
      });
  return (values) => renderTemplate(template, values);
}

/** A JSON template: every string in it a template, everything else as written. */
export function compileJsonTemplate(value: unknown, config: RestConfig): Render<unknown> {
  if (typeof value === 'string') return compileTemplate(value, config, false);
  if (Array.isArray(value)) {
    const items = value.map((item) => compileJsonTemplate(item, config));
    return (values) => items.map((item) => item(values));
  }
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(
      ([key, item]) => [key, compileJsonTemplate(item, config)] as const,
    );
    return (values) => {
      const out: Record<string, unknown> = {};
      for (const [key, item] of members) out[key] = item(values);
      return out;
    };
  }
  return () => value;
}

/**
 * A path with query parameters, in the order given and repeated where a name repeats; the
 * transport appends the path to the base URL as it is.
 */
export function withQuery(
  path: string,
  parameters: readonly (readonly [string, string])[],
): string {
  if (parameters.length === 0) return path;
  return `${path}?${new URLSearchParams(parameters as [string, string][]).toString()}`;
}
