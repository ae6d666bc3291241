import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import type { RequestContext } from './context.js';
import type { LiveRequest } from './live/service.js';
import { AMOUNT_BOUNDS, Amount } from './money.js';

/** The Pothos builder: plugins and scalars only; types live in src/graphql/. */
export const builder = new SchemaBuilder<{
  // `live` is set for subscriptions by the transport that carries them (SSE or WebSocket).
  Context: RequestContext & { live?: LiveRequest };
  Scalars: {
    Decimal: { Input: Amount; Output: Amount };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  // Fields are non-null unless they say otherwise, as CONTRACT.md's SDL reads.
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  // A Federation v2 subgraph: entities with @key, `_service` and `_entities`.
  plugins: [DirectivesPlugin, FederationPlugin],
});

builder.scalarType('Decimal', {
  description:
    'An exact decimal number as a JSON string in plain notation: "12386.00", "0.000000000000000001", "-5". Never a float, never exponent notation.',
  serialize: (value) => {
    if (value instanceof Amount) return value.toString();
    throw new GraphQLError('Decimal cannot represent a value that is not an Amount');
  },
  parseValue: (value) => parseDecimalInput(value),
  parseLiteral: (node) =>
    parseDecimalInput(node.kind === Kind.STRING ? node.value : literalDescription(node)),
});

/** The longest text a Decimal's error message quotes. */
const MAX_QUOTED_LENGTH = 32;

/**
 * A client's Decimal: a string in plain notation within the bounds of an amount (money.ts), judged
 * by its lengths before any decimal is built; anything else a precise error.
 */
function parseDecimalInput(value: unknown): Amount {
  if (typeof value === 'string') {
    const amount = Amount.readPlainString(value);
    if (amount instanceof Amount) return amount;
    if (amount === 'out of bounds') {
      // Sizes only: the digits could be a megabyte long. The text is plain notation (money.ts
      // said so), so the sizes are positions in it, and no copy of the digits is made.
      const point = value.indexOf('.');
      const end = point < 0 ? value.length : point;
      const integerDigits = end - (value.startsWith('-') ? 1 : 0);
      const fractionDigits = point < 0 ? 0 : value.length - point - 1;
      throw new GraphQLError(
        `Decimal must be an amount of ${AMOUNT_BOUNDS}; received one outside those bounds (${digitCount(integerDigits)} before the point, ${fractionDigits} after)`,
      );
    }
    // A short mistake ("12,50") is quoted; a long text is not, nor any part of it (it could be a
    // secret sent in the wrong variable, or a megabyte).
    const quoted = value.length <= MAX_QUOTED_LENGTH ? ` (${JSON.stringify(value)})` : '';
    throw new GraphQLError(
      `Decimal must be a string in plain decimal notation such as "12.50" or "-0.001"; received a string that is not${quoted}`,
    );
  }
  const received =
    value instanceof LiteralDescription
      ? value.text
      : typeof value === 'number'
        ? 'a number; send it as a string to keep every digit'
        : value === null
          ? 'null'
          : Array.isArray(value)
            ? 'a list'
            : typeof value === 'object'
              ? 'an object'
              : `a ${typeof value}`;
  throw new GraphQLError(
    `Decimal must be a string in plain decimal notation such as "12.50"; received ${received}`,
  );
}

function digitCount(count: number): string {
  return `${count} digit${count === 1 ? '' : 's'}`;
}

class LiteralDescription {
  constructor(readonly text: string) {}
}

function literalDescription(node: ValueNode): LiteralDescription {
  switch (node.kind) {
    case Kind.INT:
    case Kind.FLOAT:
      return new LiteralDescription('a number; send it as a string to keep every digit');
    case Kind.BOOLEAN:
      return new LiteralDescription('a boolean');
    case Kind.NULL:
      return new LiteralDescription('null');
    default:
      return new LiteralDescription(`a ${node.kind.toLowerCase().replace('_', ' ')}`);
  }
}

builder.scalarType('DateTime', {
  description: 'A point in time as an ISO 8601 string, e.g. "2026-05-27T09:47:15.000Z".',
  serialize: (value) => {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    throw new GraphQLError('DateTime cannot represent an invalid date');
  },
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (node) => parseDateTime(node.kind === Kind.STRING ? node.value : undefined),
});

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new GraphQLError('DateTime must be an ISO 8601 string such as "2026-05-27T09:47:15Z"');
  }
  return date;
}

builder.scalarType('JSON', {
  description:
    "A provider's record as received, its numbers as exact decimal strings so no client reads them as floats.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: () => {
    throw new GraphQLError('JSON is an output type here; it cannot be given as a literal');
  },
});
