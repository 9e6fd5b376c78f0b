import { describe, expect, it } from 'vitest';
import { TeamSpec, VirtualKeySpec } from '../crds/api/index.ts';
import type { AnyObject } from './kube/resources.ts';
import { buildObject, forGitOps, parseLabels, parseList, withoutDefaults } from './manifest.ts';

describe('buildObject', () => {
  it('builds the object from flags, leaving out what was not given', () => {
    expect(
      buildObject({
        kind: 'VirtualKey',
        name: 'chatbot',
        namespace: 'ml',
        spec: { models: ['granite'], limits: { maxBudget: undefined }, user: undefined },
      }),
    ).toEqual({
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'VirtualKey',
      metadata: { name: 'chatbot', namespace: 'ml' },
      spec: { models: ['granite'] },
    });
  });

  it('gives cluster-scoped kinds no namespace', () => {
    const team = buildObject({ kind: 'Team', name: 't', namespace: 'ignored', spec: {} });
    expect(team.metadata).toEqual({ name: 't' });
  });

  it("refuses what the schema refuses, naming the flag and quoting the field's documentation", () => {
    expect(() =>
      buildObject(
        { kind: 'VirtualKey', name: 'k', namespace: 'ml', spec: { limits: { maxBudget: '1,5' } } },
        { 'limits.maxBudget': '--budget' },
      ),
    ).toThrow(
      /invalid VirtualKey, nothing was sent:\n {2}--budget: spec\.limits\.maxBudget: .*\n {4}expected: .*US dollars: a whole number \(100\) or a decimal string \("12\.50"\)/,
    );
    expect(() =>
      buildObject(
        { kind: 'VirtualKey', name: 'k', namespace: 'ml', spec: { rotation: { every: '1 day' } } },
        { rotation: '--rotate-every' },
      ),
    ).toThrow(/--rotate-every: spec\.rotation\.every/);
  });
});

describe('manifests for GitOps', () => {
  it('leave out fields equal to what the CRD would default', () => {
    expect(
      withoutDefaults(TeamSpec, {
        membershipMode: 'Authoritative',
        deletionPolicy: 'Delete',
        models: ['a'],
      }),
    ).toEqual({ models: ['a'] });
    expect(
      withoutDefaults(VirtualKeySpec, {
        requireAllModels: true,
        suspended: false,
        rotation: { every: '30d', gracePeriod: '1h' },
        secret: { name: 'app', apiKeyKey: 'OPENAI_API_KEY', baseUrlKey: 'BASE' },
      }),
    ).toEqual({ rotation: { every: '30d' }, secret: { name: 'app', baseUrlKey: 'BASE' } });
  });

  it('keep values that differ from the defaults', () => {
    expect(
      withoutDefaults(TeamSpec, { membershipMode: 'Additive', deletionPolicy: 'Orphan' }),
    ).toEqual({ membershipMode: 'Additive', deletionPolicy: 'Orphan' });
  });

  it('drop status, server metadata and the last-applied annotation', () => {
    const read = {
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'Team',
      metadata: {
        name: 'ml',
        uid: 'u',
        resourceVersion: '7',
        generation: 2,
        creationTimestamp: '2026-01-01T00:00:00Z',
        managedFields: [{ manager: 'kubectl-llm' }],
        labels: { app: 'x' },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
          'example.com/owner': 'platform',
        },
      },
      spec: { models: ['a'], membershipMode: 'Authoritative', deletionPolicy: 'Delete' },
      status: { conditions: [] },
    } as unknown as AnyObject;
    expect(forGitOps(read)).toEqual({
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'Team',
      metadata: {
        name: 'ml',
        labels: { app: 'x' },
        annotations: { 'example.com/owner': 'platform' },
      },
      spec: { models: ['a'] },
    });
  });
});

describe('flag values', () => {
  it('parses labels and lists as kubectl does', () => {
    expect(parseLabels('a=b, c=d')).toEqual({ a: 'b', c: 'd' });
    expect(() => parseLabels('a')).toThrow('--labels: "a" is not key=value');
    expect(parseList('a, b,,c')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toEqual([]);
    expect(parseList(undefined)).toBeUndefined();
  });
});
