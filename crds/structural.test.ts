import { describe, expect, it } from 'vitest';
import { StructuralSchemaError, toStructural } from './structural.ts';

const set = { 'x-kubernetes-list-type': 'set' };

describe('toStructural', () => {
  it('drops what zod adds and the apiserver refuses', () => {
    const out = toStructural({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'string' } },
    });
    expect(out).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
  });

  it('keeps x-kubernetes-* extensions and CEL rules as they are', () => {
    const rules = [{ rule: 'self.a != ""', message: 'a must be set' }];
    const out = toStructural({ type: 'object', 'x-kubernetes-validations': rules, properties: {} });
    expect(out['x-kubernetes-validations']).toBe(rules);
  });

  it('drops zod patterns that stand beside a format, keeps our own patterns', () => {
    const out = toStructural({
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time', pattern: '^(?:\\d{4})$' },
        name: { type: 'string', pattern: '^[a-z]+$' },
      },
    });
    expect(out.properties).toEqual({
      at: { type: 'string', format: 'date-time' },
      name: { type: 'string', pattern: '^[a-z]+$' },
    });
  });

  it('drops the safe-integer bounds zod puts on every int but keeps real ones', () => {
    const out = toStructural({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    expect(out).toEqual({ type: 'integer', minimum: 0 });
  });

  it('turns an integer|string union into int-or-string', () => {
    const out = toStructural({ anyOf: [{ type: 'string' }, { type: 'integer' }] });
    expect(out).toEqual({ 'x-kubernetes-int-or-string': true });
  });

  it("lifts an int-or-string's branch checks onto the field, as Quantity schemas have them", () => {
    const out = toStructural({
      description: 'money',
      anyOf: [
        { type: 'integer', minimum: 0, maximum: 99 },
        { type: 'string', maxLength: 5, pattern: '^[0-9]+$' },
      ],
    });
    expect(out).toEqual({
      'x-kubernetes-int-or-string': true,
      description: 'money',
      minimum: 0,
      maximum: 99,
      maxLength: 5,
      pattern: '^[0-9]+$',
    });
    expect(() =>
      toStructural({
        maxLength: 3,
        anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 5 }],
      }),
    ).toThrow(/"maxLength" is set both/);
  });

  it('refuses other unions, naming the path', () => {
    const schema = {
      type: 'object',
      properties: { a: { anyOf: [{ type: 'string' }, { type: 'boolean' }] } },
    };
    expect(() => toStructural(schema)).toThrow(StructuralSchemaError);
    expect(() => toStructural(schema)).toThrow(/^\.a: unions other than int-or-string/);
  });

  it('refuses a level without a type', () => {
    expect(() =>
      toStructural({ type: 'object', properties: { x: { description: 'untyped' } } }),
    ).toThrow('.x: every level of a structural schema needs a type');
  });

  it('refuses arrays without a list type, so server-side apply never guesses', () => {
    expect(() => toStructural({ type: 'array', items: { type: 'string' } })).toThrow(
      /x-kubernetes-list-type/,
    );
    expect(toStructural({ type: 'array', items: { type: 'string' }, ...set })).toEqual({
      type: 'array',
      items: { type: 'string' },
      ...set,
    });
  });

  it('refuses uniqueItems, which the apiserver forbids', () => {
    expect(() =>
      toStructural({ type: 'array', uniqueItems: true, items: { type: 'string' }, ...set }),
    ).toThrow(/uniqueItems/);
  });

  it('refuses keywords a CRD schema cannot carry', () => {
    expect(() => toStructural({ type: 'string', readOnly: true })).toThrow(
      '<root>: keyword "readOnly" is not allowed',
    );
  });

  it('refuses patterns RE2 cannot compile', () => {
    expect(() => toStructural({ type: 'string', pattern: '^(?!admin).*$' })).toThrow(/RE2/);
    expect(() => toStructural({ type: 'string', pattern: '^(a)\\1$' })).toThrow(/RE2/);
  });

  it('refuses additionalProperties beside properties, allows a map of strings', () => {
    expect(() =>
      toStructural({ type: 'object', properties: {}, additionalProperties: { type: 'string' } }),
    ).toThrow(/beside properties/);
    expect(toStructural({ type: 'object', additionalProperties: { type: 'string' } })).toEqual({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
  });

  it('walks items and nested properties and does not mutate its input', () => {
    const input = {
      type: 'array',
      ...set,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { n: { type: 'integer', maximum: Number.MAX_SAFE_INTEGER } },
      },
    };
    const copy = structuredClone(input);
    expect(toStructural(input)).toEqual({
      type: 'array',
      ...set,
      items: { type: 'object', properties: { n: { type: 'integer' } } },
    });
    expect(input).toEqual(copy);
  });
});
