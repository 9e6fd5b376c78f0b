import { describe, expect, it } from 'vitest';
import { VIRTUAL_KEY_USER_POLICY } from '../../../../crds/admission/virtual-key-user.ts';
import { admissionPolicyState, type Binding, type Policy } from './admission-policy.ts';

const policy = (overrides: Partial<Policy['metadata']> = {}): Policy => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: VIRTUAL_KEY_USER_POLICY, ...overrides },
});

const binding = (spec: Partial<NonNullable<Binding['spec']>> = {}, name = 'b'): Binding => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name },
  spec: { policyName: VIRTUAL_KEY_USER_POLICY, validationActions: ['Deny'], ...spec },
});

describe('admissionPolicyState', () => {
  it('is in force with the policy and a Deny binding (defaulted empty selectors included)', () => {
    expect(admissionPolicyState(policy(), [binding()])).toEqual({ inForce: true });
    const defaulted = binding({
      matchResources: { namespaceSelector: {}, objectSelector: {}, matchPolicy: 'Equivalent' },
    });
    expect(admissionPolicyState(policy(), [defaulted])).toEqual({ inForce: true });
  });

  it('is missing without the policy, or while it is being deleted', () => {
    expect(admissionPolicyState(undefined, [binding()])).toMatchObject({
      inForce: false,
      why: expect.stringContaining('does not exist'),
    });
    const deleting = policy({ deletionTimestamp: new Date(), finalizers: ['x'] });
    expect(admissionPolicyState(deleting, [binding()]).inForce).toBe(false);
  });

  it('is missing without a binding of this policy', () => {
    const other = binding({ policyName: 'someone-elses' });
    expect(admissionPolicyState(policy(), [other])).toMatchObject({
      inForce: false,
      why: expect.stringContaining('no ValidatingAdmissionPolicyBinding binds'),
    });
  });

  it('is missing when the only bindings audit or warn, or leave some keys out', () => {
    for (const spec of [
      { validationActions: ['Audit'] },
      { validationActions: ['Warn'] },
      { matchResources: { namespaceSelector: { matchLabels: { team: 'a' } } } },
      {
        matchResources: {
          objectSelector: { matchExpressions: [{ key: 'x', operator: 'Exists' }] },
        },
      },
      { matchResources: { excludeResourceRules: [{ resources: ['virtualkeys'] }] } },
    ] as Partial<NonNullable<Binding['spec']>>[]) {
      expect(admissionPolicyState(policy(), [binding(spec)]), JSON.stringify(spec)).toMatchObject({
        inForce: false,
        why: expect.stringContaining('denies'),
      });
    }
    // One enforcing binding among them is enough.
    expect(
      admissionPolicyState(policy(), [binding({ validationActions: ['Warn'] }), binding({}, 'c')]),
    ).toEqual({ inForce: true });
  });
});
