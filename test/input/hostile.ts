import fc from 'fast-check';

// Hostile values for the OpenAPI-driven fuzz test (hostile-input.test.ts): what a broken client,
// a curious user or a scanner sends. Kept apart from the test so the list reads as one catalogue.

const controlChar = fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c));

/** Texts PostgreSQL or the AMI cannot take, or that break a naive parser. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.string({ maxLength: 8 }), controlChar, fc.string({ maxLength: 8 })).map(([a, c, b]) => a + c + b),
  fc.constantFrom('ad\u0000min', '\u0000', 'a\r\nAction: Originate', '\u007f', '\ud800', '\ufeff', '%00', '../../etc/passwd', '\' or 1=1 --', '𝕊🙂'),
  fc.integer({ min: 129, max: 5000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers as text: ids and offsets past PostgreSQL's int4 and JavaScript's safe range. */
export const hostileNumber: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom('2147483647', '2147483648', '-2147483649', '9007199254740993', '1e309', '-0', '0x10', '1.5', 'NaN', 'Infinity', ' 1', ''),
  fc.double().map(String),
);

export const hostileScalar: fc.Arbitrary<string> = fc.oneof(hostileNumber, hostileText);

/** Nested arrays/objects deep enough to hurt a recursive walker. */
const deep = fc.integer({ min: 50, max: 2000 }).map((depth) => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});

/** A JSON value of any type: the wrong one for most fields. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: hostileText },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(Number), fc.double({ noNaN: true })) },
  { weight: 1, arbitrary: deep },
);

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: unknown[];
}

/** A value shaped like the schema but hostile at the leaves: right keys, wrong contents. */
export function nearSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  const union = schema.anyOf ?? schema.oneOf;
  if (union?.length) return fc.oneof(...union.map((s) => nearSchema(s, depth + 1)));
  if (schema.allOf?.length) return nearSchema(Object.assign({}, ...schema.allOf), depth + 1);
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), anyJson);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object' || schema.properties) {
    const props = Object.entries(schema.properties ?? {});
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, sub] of props) record[key] = nearSchema(sub, depth + 1);
    return fc.oneof(
      { weight: 4, arbitrary: fc.record(record, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.record(record).chain((r) => fc.dictionary(hostileText, anyJson, { maxKeys: 3 }).map((extra) => ({ ...r, ...extra }))) },
    );
  }
  if (type === 'array') return fc.oneof(fc.array(nearSchema(schema.items, depth + 1), { maxLength: 30 }), anyJson);
  if (type === 'integer' || type === 'number') return fc.oneof(hostileNumber.map(Number), hostileNumber, anyJson);
  if (type === 'boolean') return fc.oneof(fc.boolean(), anyJson);
  return fc.oneof({ weight: 3, arbitrary: hostileScalar }, { weight: 1, arbitrary: anyJson });
}

/** A body as bytes: JSON of a near-schema value, or no JSON at all. */
export function hostileBody(schema: JsonSchema | undefined): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: nearSchema(schema).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom(undefined, '', '{', '{"a":1}garbage', '\u0000', '[]'.repeat(3000)) },
  );
}

/** encodeURIComponent without the URIError a lone surrogate throws. */
export function encodePart(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'));
}
