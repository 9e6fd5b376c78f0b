// The zod schemas (what the operator and gateway validate with at run time) accept every
// example the apiserver accepts, and fill in the same defaults the CRDs declare.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kinds } from './index.ts';

const examplesDir = new URL('../../examples/', import.meta.url);

async function exampleObjects(): Promise<{ kind: string; spec: unknown; file: string }[]> {
  const files = (await readdir(examplesDir, { recursive: true })).filter((f) =>
    f.endsWith('.yaml'),
  );
  const objects = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(new URL(file, examplesDir), 'utf8'))) {
      const object = doc.toJS() as { kind: string; spec: unknown } | null;
      if (object) objects.push({ ...object, file });
    }
  }
  return objects;
}

describe('examples against the zod schemas', () => {
  it('every llmtenancy.dev example parses with its kind schema', async () => {
    const objects = await exampleObjects();
    const ours = objects.filter((o) => kinds.some((k) => k.kind === o.kind));
    expect(new Set(ours.map((o) => o.kind))).toEqual(new Set(kinds.map((k) => k.kind)));
    for (const object of ours) {
      const def = kinds.find((k) => k.kind === object.kind)!;
      const result = def.spec.safeParse(object.spec);
      expect(result.error?.message, `${object.file}: ${object.kind}`).toBeUndefined();
    }
  });

  it('defaults match what the CRD would fill in', () => {
    const team = kinds[0].spec.parse({});
    expect(team).toEqual({ membershipMode: 'Authoritative', deletionPolicy: 'Delete' });
  });
});
