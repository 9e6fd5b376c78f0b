// Turns zod's JSON Schema output (OpenAPI 3.0 flavour) into a Kubernetes *structural*
// schema, the only kind apiextensions.k8s.io/v1 accepts. zod's output differs in a few
// ways the apiserver rejects or that would make its validation wrong:
//   - `$schema`, `additionalProperties: false`, `uniqueItems` are not allowed;
//   - zod adds its own regex beside `format` (email, date-time); those are ECMAScript
//     patterns, and the apiserver checks the format itself;
//   - integers carry ±MAX_SAFE_INTEGER bounds that only add noise;
//   - `anyOf`/`oneOf` unions need a type at every level (only int-or-string is allowed).
// Anything else we cannot express is an error that names the path, not a silent drop.

export type JSONSchema = { [key: string]: unknown };

/** Keywords apiextensions.k8s.io/v1 JSONSchemaProps knows (minus the ones we never want). */
const ALLOWED = new Set([
  'description',
  'type',
  'format',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'allOf',
  'properties',
  'additionalProperties',
  'nullable',
  'example',
]);

const SAFE_INT_BOUND = Number.MAX_SAFE_INTEGER;

export class StructuralSchemaError extends Error {
  constructor(path: string, problem: string) {
    super(`${path || '<root>'}: ${problem}`);
    this.name = 'StructuralSchemaError';
  }
}

/** Returns a new, structural schema; never mutates its input. */
export function toStructural(input: JSONSchema, path = ''): JSONSchema {
  const out: JSONSchema = {};
  let schema = input;

  const union = (schema.anyOf ?? schema.oneOf) as JSONSchema[] | undefined;
  if (union) {
    const types = union.map((s) => s.type).sort();
    if (union.length === 2 && types[0] === 'integer' && types[1] === 'string') {
      out['x-kubernetes-int-or-string'] = true;
      schema = liftIntOrStringChecks(schema, union, path);
    } else {
      throw new StructuralSchemaError(
        path,
        'unions other than int-or-string are not structural; use one object with optional fields and a CEL rule',
      );
    }
  }

  for (const [key, value] of Object.entries(schema)) {
    if (key === 'anyOf' || key === 'oneOf' || key === '$schema') continue;
    if (key.startsWith('x-kubernetes-')) {
      out[key] = value;
      continue;
    }
    if (!ALLOWED.has(key)) {
      throw new StructuralSchemaError(path, `keyword "${key}" is not allowed in a CRD schema`);
    }
    switch (key) {
      case 'properties': {
        const props: JSONSchema = {};
        for (const [name, sub] of Object.entries(value as Record<string, JSONSchema>)) {
          props[name] = toStructural(sub, `${path}.${name}`);
        }
        out.properties = props;
        break;
      }
      case 'items':
        out.items = toStructural(value as JSONSchema, `${path}[]`);
        break;
      case 'additionalProperties':
        // `false` is zod's strictness; the apiserver prunes unknown fields instead.
        if (value === false) break;
        if (schema.properties) {
          throw new StructuralSchemaError(
            path,
            'additionalProperties cannot stand beside properties',
          );
        }
        out.additionalProperties =
          value === true ? value : toStructural(value as JSONSchema, `${path}{}`);
        break;
      case 'pattern':
        // zod's own regex for a format is ECMAScript; the apiserver validates formats itself.
        if (!schema.format) out.pattern = value;
        break;
      case 'minimum':
      case 'maximum':
        if (
          (schema.type === 'integer' || out['x-kubernetes-int-or-string']) &&
          Math.abs(value as number) === SAFE_INT_BOUND
        ) {
          break;
        }
        out[key] = value;
        break;
      case 'allOf':
        out.allOf = (value as JSONSchema[]).map((s, i) => toStructural(s, `${path}.allOf[${i}]`));
        break;
      default:
        out[key] = value;
    }
  }

  if (schema.uniqueItems) {
    throw new StructuralSchemaError(
      path,
      'uniqueItems is not allowed; use x-kubernetes-list-type: set',
    );
  }
  if (
    !out.type &&
    !out['x-kubernetes-int-or-string'] &&
    !out['x-kubernetes-preserve-unknown-fields']
  ) {
    throw new StructuralSchemaError(path, 'every level of a structural schema needs a type');
  }
  if (out.type === 'array' && !out['x-kubernetes-list-type']) {
    throw new StructuralSchemaError(
      path,
      'arrays must declare x-kubernetes-list-type (set, map or atomic) so server-side apply merges them predictably',
    );
  }
  if (typeof out.pattern === 'string') assertRe2Compatible(out.pattern, path);
  return out;
}

/** The apiserver compiles `pattern` with Go's RE2, which lacks look-around and back-references. */
export function assertRe2Compatible(pattern: string, path = ''): void {
  if (/\(\?[=!<]|\\[1-9]|\\k</.test(pattern)) {
    throw new StructuralSchemaError(
      path,
      `pattern ${pattern} uses look-around or back-references, which Go's RE2 cannot compile`,
    );
  }
}

/**
 * An int-or-string field carries no type, so its branches' checks move up to it, as
 * Kubernetes' own Quantity schemas have them: a pattern or length checks only strings and a
 * minimum or maximum only numbers, so nothing changes in what is accepted.
 */
function liftIntOrStringChecks(schema: JSONSchema, union: JSONSchema[], path: string): JSONSchema {
  const lifted: JSONSchema = { ...schema };
  delete lifted.anyOf;
  delete lifted.oneOf;
  for (const branch of union) {
    for (const [key, value] of Object.entries(branch)) {
      if (key === 'type') continue;
      if (key in lifted) {
        throw new StructuralSchemaError(
          path,
          `"${key}" is set both on the int-or-string field and in one of its branches`,
        );
      }
      lifted[key] = value;
    }
  }
  return lifted;
}
