import { z } from 'zod';
import { PROVIDER_KIND_DEFINITIONS } from '../providers/kinds.js';
import { idSchema } from '../providers/provider-config.js';
import { fileSchema } from './load.js';

/**
 * The JSON Schema of the configuration file, `schema/config.schema.json` (`npm run schema`
 * writes it): the file's own schema with each provider entry as its kind's schema, so an editor
 * completes and checks a file, `rest` mappings included. It describes what a file may say;
 * checks across fields (and the messages) are the loader's.
 */
export function configJsonSchema(): Record<string, unknown> {
  const kinds = PROVIDER_KIND_DEFINITIONS.map((definition) => definition.configSchema);
  // Its id puts the provider schema once under $defs, referred to from `providers` and tenants.
  const provider = z
    .discriminatedUnion('kind', kinds as unknown as [(typeof kinds)[number]])
    .meta({ id: 'provider', description: 'One provider: its kind decides the other fields.' });
  const document = fileSchema
    .extend({
      providers: z.array(provider).optional(),
      tenants: z.array(z.strictObject({ id: idSchema, providers: z.array(provider) })).optional(),
    })
    .meta({
      title: 'balance-api configuration',
      description: 'The file named by --config or BALANCE_API_CONFIG (README "Configuration").',
    });
  return z.toJSONSchema(document, {
    io: 'input',
    // A check in code (a refinement, a transform) has no JSON Schema form: left to the loader.
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}
