// Whether the API server checks who names whom in VirtualKey spec.user: the
// ValidatingAdmissionPolicy of crds/admission/ exists and a binding enforces it (Deny) for
// every VirtualKey. Without it any namespace editor can create a personal key for anyone, so
// the operator refuses personal keys (AdmissionPolicyMissing) as a second line: read from two
// informers, so the answer follows the cluster without polling, and every personal key is
// re-evaluated when the policy or a binding changes.
//
// What it cannot see: keys created while the policy was missing were never checked; once it
// is installed they work (README: "A cluster without the policy").
import type {
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { VIRTUAL_KEY_USER_POLICY } from '../../../../crds/admission/virtual-key-user.ts';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import type { InformerTarget } from '../../runtime/informer-factory.ts';
import { isDeleting, type KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';

const ADMISSION_API = 'admissionregistration.k8s.io/v1';

/** Only our policy, by name. */
export const ADMISSION_POLICY_TARGET: InformerTarget = {
  apiVersion: ADMISSION_API,
  kind: 'ValidatingAdmissionPolicy',
  fieldSelector: `metadata.name=${VIRTUAL_KEY_USER_POLICY}`,
};
/** Every binding (a cluster has few): an admin may bind our policy under another name. */
export const ADMISSION_BINDING_TARGET: InformerTarget = {
  apiVersion: ADMISSION_API,
  kind: 'ValidatingAdmissionPolicyBinding',
};

export type Policy = V1ValidatingAdmissionPolicy & KubeObject;
export type Binding = V1ValidatingAdmissionPolicyBinding & KubeObject;

export type AdmissionPolicyState = { inForce: true } | { inForce: false; why: string };
/** For a reconciler given no policy cache: nothing is known to check spec.user. */
export const NO_ADMISSION_POLICY: AdmissionPolicyState = {
  inForce: false,
  why: 'the operator does not watch the admission policy',
};

export function admissionPolicyState(
  policy: Policy | undefined,
  bindings: readonly Binding[],
): AdmissionPolicyState {
  if (!policy || isDeleting(policy)) {
    return {
      inForce: false,
      why: `ValidatingAdmissionPolicy ${VIRTUAL_KEY_USER_POLICY} does not exist`,
    };
  }
  const ours = bindings.filter(
    (b) => b.spec?.policyName === VIRTUAL_KEY_USER_POLICY && !isDeleting(b),
  );
  // A binding that narrows matchResources leaves some keys unchecked; one that only audits or
  // warns refuses nothing.
  const enforcing = ours.filter(
    (b) => (b.spec?.validationActions ?? []).includes('Deny') && coversEverything(b),
  );
  if (enforcing.length > 0) return { inForce: true };
  return {
    inForce: false,
    why:
      ours.length === 0
        ? `no ValidatingAdmissionPolicyBinding binds ${VIRTUAL_KEY_USER_POLICY}`
        : `no binding of ${VIRTUAL_KEY_USER_POLICY} denies (validationActions Deny) for every VirtualKey`,
  };
}

function coversEverything(binding: Binding): boolean {
  const match = binding.spec?.matchResources;
  if (!match) return true;
  const empty = (selector: { matchLabels?: object; matchExpressions?: unknown[] } | undefined) =>
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 &&
      (selector.matchExpressions ?? []).length === 0);
  return (
    empty(match.namespaceSelector) &&
    empty(match.objectSelector) &&
    (match.excludeResourceRules ?? []).length === 0 &&
    (match.resourceRules ?? []).length === 0
  );
}

/** The policy and its bindings, from the manager's informers. */
export class AdmissionPolicyCache {
  readonly #policies: ObjectStore<Policy>;
  readonly #bindings: ObjectStore<Binding>;

  constructor(policies: ObjectStore<Policy>, bindings: ObjectStore<Binding>) {
    this.#policies = policies;
    this.#bindings = bindings;
  }

  state(): AdmissionPolicyState {
    return admissionPolicyState(
      this.#policies.getByName(VIRTUAL_KEY_USER_POLICY),
      this.#bindings.list(),
    );
  }
}

/** Every personal key: each may change when the policy or a binding does. */
export function personalKeys(keys: ObjectStore<VirtualKey>): () => Request[] {
  return () =>
    keys
      .list()
      .filter((k) => k.spec?.user)
      .map((k) => ({ namespace: k.metadata.namespace!, name: k.metadata.name! }));
}
