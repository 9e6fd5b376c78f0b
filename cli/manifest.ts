// Objects the plugin writes: built from flags, checked against the API's own zod schema before
// anything is sent (so a bad --budget fails with the schema's words and names the flag), and
// printed for a GitOps repository the way one would write them by hand: no status, no
// server-set metadata, no values the CRD defaults would fill in anyway.
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { API_VERSION } from '../crds/api/index.ts';
import { CliError } from './errors.ts';
import { kindOf, type AnyObject, type KindName } from './kube/resources.ts';

export interface NewObject {
  kind: KindName;
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  spec: Record<string, unknown>;
}

/** Spec paths ("limits.maxBudget") to the flag that set them ("--budget"). */
export type FlagNames = Record<string, string>;

export function buildObject(object: NewObject, flags: FlagNames = {}): AnyObject {
  const spec = prune(object.spec);
  validateSpec(object.kind, spec, flags);
  const namespaced = kindOf(object.kind).scope === 'Namespaced';
  return {
    apiVersion: API_VERSION,
    kind: object.kind,
    metadata: {
      name: object.name,
      ...(namespaced ? { namespace: object.namespace } : {}),
      ...(object.labels && Object.keys(object.labels).length > 0 ? { labels: object.labels } : {}),
    },
    spec,
  };
}

/** Throws a CliError listing every problem, each with the flag it came from when known. */
export function validateSpec(kind: KindName, spec: unknown, flags: FlagNames = {}): void {
  const result = kindOf(kind).spec.safeParse(spec);
  if (result.success) return;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const flag = Object.entries(flags).find(([p]) => path === p || path.startsWith(`${p}.`))?.[1];
    const expected = describeAt(kindOf(kind).spec, issue.path.map(String));
    return `  ${flag ? `${flag}: ` : ''}spec.${path}: ${issue.message}${expected ? `\n    expected: ${expected}` : ''}`;
  });
  throw new CliError(`invalid ${kind}, nothing was sent:\n${lines.join('\n')}`);
}

/** The schema's description of the field at `path`, the words the CRD documents it with. */
export function describeAt(schema: z.ZodType, path: string[]): string | undefined {
  let node: z.ZodType | undefined = schema;
  for (const key of path) {
    node = unwrap(node);
    const shape = (node as { shape?: Record<string, z.ZodType> } | undefined)?.shape;
    const element = (node as { element?: z.ZodType } | undefined)?.element;
    node = shape ? shape[key] : element && /^\d+$/.test(key) ? element : undefined;
    if (!node) return undefined;
  }
  return node?.description ?? unwrap(node)?.description;
}

function unwrap(node: z.ZodType | undefined): z.ZodType | undefined {
  let current = node;
  for (let i = 0; i < 5 && current; i++) {
    const inner = (current as { _zod?: { def?: { innerType?: z.ZodType } } })._zod?.def?.innerType;
    if (!inner) break;
    current = inner;
  }
  return current;
}

/** Drops undefined values and empty objects, so flags not given leave no trace. */
export function prune(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const inner = prune(v as Record<string, unknown>);
      if (Object.keys(inner).length > 0) out[key] = inner;
      continue;
    }
    out[key] = v;
  }
  return out;
}

const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/** The object as a GitOps repository keeps it. */
export function forGitOps(object: AnyObject): AnyObject {
  const kind = object.kind as KindName;
  const { name, namespace, labels, annotations } = object.metadata;
  const kept = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.includes(k)),
  );
  return {
    apiVersion: object.apiVersion ?? API_VERSION,
    kind,
    metadata: {
      name,
      ...(kindOf(kind).scope === 'Namespaced' && namespace ? { namespace } : {}),
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}),
    },
    spec: withoutDefaults(kindOf(kind).spec, object.spec ?? {}),
  };
}

/**
 * `spec` without the fields whose value is what the schema's defaults would give anyway:
 * each field (deepest first) is dropped when the parsed result stays the same without it.
 */
export function withoutDefaults(
  schema: z.ZodType,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  const parsed = schema.safeParse(spec);
  if (!parsed.success) return spec;
  let current = structuredClone(spec);
  const paths = objectPaths(current).sort((a, b) => b.length - a.length);
  for (const path of paths) {
    const candidate = structuredClone(current);
    deleteAt(candidate, path);
    const result = schema.safeParse(candidate);
    if (result.success && isDeepStrictEqual(result.data, parsed.data)) current = candidate;
  }
  return current;
}

function objectPaths(value: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(value).flatMap(([key, v]) => {
    const path = [...prefix, key];
    return v && typeof v === 'object' && !Array.isArray(v)
      ? [path, ...objectPaths(v as Record<string, unknown>, path)]
      : [path];
  });
}

function deleteAt(value: Record<string, unknown>, path: string[]): void {
  let node: Record<string, unknown> | undefined = value;
  for (const key of path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
  if (node) delete node[path[path.length - 1]!];
}

/** "a=b,c=d" (kubectl's --labels) as an object. */
export function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const [key, value, ...rest] = pair.split('=');
    if (!key || value === undefined || rest.length > 0) {
      throw new CliError(`--labels: "${pair}" is not key=value (write a=b,c=d)`);
    }
    labels[key.trim()] = value.trim();
  }
  return labels;
}

/** "a,b" as a list; undefined for no flag, [] for "". */
export function parseList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
