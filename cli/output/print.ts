// -o json|yaml|name for objects, the way kubectl prints them: one object as itself, several
// as a v1 List; names as <singular>.<group>/<name>.
import { stringify } from 'yaml';
import { GROUP } from '../../crds/api/index.ts';
import type { AnyObject } from '../kube/resources.ts';
import { kindOf, type KindName } from '../kube/resources.ts';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];

export function objectName(object: { kind: string; metadata: { name?: string } }): string {
  return `${kindOf(object.kind as KindName).singular}.${GROUP}/${object.metadata.name}`;
}

export function asList(items: unknown[]): unknown {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

/** One document: JSON with two-space indent, or YAML. */
export function serialize(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

/** Objects (or one) in a machine format; undefined for table and wide. */
export function printObjects(
  objects: AnyObject[] | AnyObject,
  format: OutputFormat,
): string | undefined {
  const many = Array.isArray(objects);
  const list = many ? objects : [objects];
  switch (format) {
    case 'name':
      return list.map((o) => `${objectName(o)}\n`).join('');
    case 'json':
    case 'yaml':
      return serialize(many ? asList(list) : objects, format);
    default:
      return undefined;
  }
}
