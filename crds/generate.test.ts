import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kinds } from './api/index.ts';
import { VIRTUAL_KEY_USER_POLICY } from './admission/virtual-key-user.ts';
import { renderAdmission, renderCRDs } from './generate.ts';

describe('generated CRDs', () => {
  const rendered = renderCRDs();

  it('are committed and up to date (run `npm run crds` after changing crds/api)', async () => {
    for (const [name, text] of rendered) {
      const committed = await readFile(new URL(name, import.meta.url), 'utf8').catch(
        () => '<missing>',
      );
      expect(committed, `crds/${name} is stale: run npm run crds`).toBe(text);
    }
  });

  it('name every kind with short names, category llm and a status subresource', () => {
    expect(rendered.size).toBe(kinds.length);
    for (const text of rendered.values()) {
      const crd = parse(text);
      expect(crd.spec.names.categories).toEqual(['llm']);
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
      expect(crd.spec.versions[0].subresources).toEqual({ status: {} });
      const columns = crd.spec.versions[0].additionalPrinterColumns.map(
        (c: { name: string }) => c.name,
      );
      expect(columns).toEqual(expect.arrayContaining(['Ready', 'Reason', 'Age']));
    }
  });

  it('give every schema level a description or a type a user can read in kubectl explain', () => {
    const crd = parse(rendered.get('llmtenancy.dev_virtualkeys.yaml')!);
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    for (const [field, schema] of Object.entries<{ description?: string }>(spec.properties)) {
      expect(schema.description, `spec.${field} has no description`).toBeTruthy();
    }
  });
});

describe('generated admission policy', () => {
  const rendered = renderAdmission();

  it('is committed and up to date (run `npm run crds` after changing crds/admission)', async () => {
    expect(rendered.size).toBe(1);
    for (const [name, text] of rendered) {
      const committed = await readFile(new URL(name, import.meta.url), 'utf8').catch(
        () => '<missing>',
      );
      expect(committed, `crds/${name} is stale: run npm run crds`).toBe(text);
    }
  });

  it('binds the policy with Deny, on CREATE of personal keys only, with adminGroups first', () => {
    const [policy, binding] = [...rendered.values()][0]!.split('\n---\n').map((d) => parse(d));
    expect(policy.kind).toBe('ValidatingAdmissionPolicy');
    expect(policy.spec.matchConstraints.resourceRules).toEqual([
      expect.objectContaining({ resources: ['virtualkeys'], operations: ['CREATE'] }),
    ]);
    expect(policy.spec.matchConditions).toEqual([
      { name: 'personal-key', expression: 'has(object.spec.user)' },
    ]);
    // README and the file header tell admins to patch /spec/variables/0/expression.
    expect(policy.spec.variables[0].name).toBe('adminGroups');
    expect(binding).toMatchObject({
      kind: 'ValidatingAdmissionPolicyBinding',
      spec: { policyName: VIRTUAL_KEY_USER_POLICY, validationActions: ['Deny'] },
    });
  });
});
