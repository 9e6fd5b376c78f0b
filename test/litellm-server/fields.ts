// Reading request bodies and queries the way LiteLLM's pydantic models do: unknown fields are
// ignored (extra="ignore"); a present field of the wrong type is a 422 with FastAPI's shape.
import type { FastifyRequest } from 'fastify';
import { validationError } from './http-errors.ts';
import type { Json } from './store.ts';

export function bodyOf(request: FastifyRequest): Json {
  const body = request.body;
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw validationError([
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: body,
      },
    ]);
  }
  return body as Json;
}

export function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  return (request.query ?? {}) as Record<string, string | undefined>;
}

type Where = 'body' | 'query';

function wrongType(where: Where, field: string, msg: string, type: string, input: unknown) {
  return validationError([{ type, loc: [where, field], msg, input }]);
}

/** undefined when absent; null when explicitly null. */
export function str(obj: Json, field: string, where: Where = 'body'): string | null | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string')
    throw wrongType(where, field, 'Input should be a valid string', 'string_type', v);
  return v;
}

export function num(obj: Json, field: string, where: Where = 'body'): number | null | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw wrongType(where, field, 'Input should be a valid number', 'float_type', v);
}

export function int(obj: Json, field: string, where: Where = 'body'): number | null | undefined {
  const v = num(obj, field, where);
  if (v === undefined || v === null) return v;
  if (!Number.isInteger(v))
    throw wrongType(where, field, 'Input should be a valid integer', 'int_type', obj[field]);
  return v;
}

export function bool(obj: Json, field: string, where: Where = 'body'): boolean | null | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return v;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw wrongType(where, field, 'Input should be a valid boolean', 'bool_type', v);
}

export function strList(
  obj: Json,
  field: string,
  where: Where = 'body',
): string[] | null | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return v;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw wrongType(where, field, 'Input should be a valid list of strings', 'list_type', v);
  }
  return v as string[];
}

export function dict(obj: Json, field: string, where: Where = 'body'): Json | null | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw wrongType(where, field, 'Input should be a valid dictionary', 'dict_type', v);
  }
  return v as Json;
}

/** A query integer within bounds (FastAPI Query(ge, le)). */
export function queryInt(
  query: Record<string, string | undefined>,
  field: string,
  fallback: number,
  min: number,
  max?: number,
): number {
  const raw = query[field];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n))
    throw wrongType(
      'query',
      field,
      'Input should be a valid integer, unable to parse string as an integer',
      'int_parsing',
      raw,
    );
  if (n < min)
    throw wrongType(
      'query',
      field,
      `Input should be greater than or equal to ${min}`,
      'greater_than_equal',
      raw,
    );
  if (max !== undefined && n > max)
    throw wrongType(
      'query',
      field,
      `Input should be less than or equal to ${max}`,
      'less_than_equal',
      raw,
    );
  return n;
}

export function queryBool(query: Record<string, string | undefined>, field: string): boolean {
  const raw = query[field];
  return raw === 'true' || raw === 'True' || raw === '1';
}

/**
 * LiteLLM's default list order, `created_at desc`. ISO timestamps compare as plain strings,
 * which is much cheaper than localeCompare when every page of 10,000 keys sorts them all.
 */
export function newestFirst(a: { created_at: string }, b: { created_at: string }): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0;
}

/** Pagination as LiteLLM's list endpoints do it. */
export function paginate<T>(items: readonly T[], page: number, size: number) {
  const total = items.length;
  return {
    items: items.slice((page - 1) * size, page * size),
    total,
    totalPages: Math.ceil(total / size),
  };
}
