// Who may name which person in a VirtualKey's spec.user: a ValidatingAdmissionPolicy (CEL,
// evaluated in the API server, no webhook to run) and its binding, generated into
// crds/admission/ by crds/generate.ts and shipped beside the CRDs.
//
// A personal key is accepted at CREATE only when one of these holds (spec.user cannot change
// afterwards: the CRD's own CEL rule makes it immutable, so UPDATEs, the operator's finalizer
// and status writes included, are never evaluated here):
//
//   self      the requester's login name is the User's name. The login → User name rule
//             (contracts/identity/user-object-name.ts) keeps a login that is a valid
//             object name as it is, so for those logins this equality IS the rule. Other
//             logins (e-mail addresses, upper case, "oidc:" prefixes) are hashed by the rule;
//             CEL has no hash function, so they cannot be matched here and get their personal
//             keys through the gateway or from an admin.
//   gateway   the request carries the impersonated user extra USER_NAME_EXTRA naming the
//             User. Only a principal allowed to `impersonate` `userextras/<that key>` can set
//             it (the API server authorizes every Impersonate-Extra-* header on its own), and
//             only the gateway is granted that: it sets it to the User it resolved for the
//             person it authenticated.
//   admin     the requester is in system:masters or in one of the platform-admin groups
//             (the `adminGroups` variable: a CEL list, DEFAULT_ADMIN_GROUPS unless patched).
import { API_VERSION, GROUP } from '../api/meta.ts';

export const VIRTUAL_KEY_USER_POLICY = 'llmtenancy.dev-virtualkey-user';
export const VIRTUAL_KEY_USER_BINDING = 'llmtenancy.dev-virtualkey-user';
/** The impersonated extra the gateway sets to the User name of the person it acts for. */
export const USER_NAME_EXTRA = `${GROUP}/user-name`;
export const DEFAULT_ADMIN_GROUPS = ['llm-tenancy-admins'] as const;
/** The message's first words, so clients and tests can recognize the refusal. */
export const REFUSAL_PREFIX = 'spec.user may name only yourself';

const celString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function adminGroupsExpression(groups: readonly string[]): string {
  return `[${groups.map(celString).join(', ')}]`;
}

const extra = celString(USER_NAME_EXTRA);

export function virtualKeyUserPolicy(adminGroups: readonly string[] = DEFAULT_ADMIN_GROUPS) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: VIRTUAL_KEY_USER_POLICY,
      labels: { 'app.kubernetes.io/part-of': 'llm-tenancy' },
    },
    spec: {
      // A CEL error (none is expected) refuses the key rather than letting it through.
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [GROUP],
            apiVersions: [API_VERSION.split('/')[1]!],
            resources: ['virtualkeys'],
            operations: ['CREATE'],
          },
        ],
      },
      // Team service keys (no spec.user) are not this policy's business.
      matchConditions: [{ name: 'personal-key', expression: 'has(object.spec.user)' }],
      variables: [
        // Patch this list (kustomize, the chart) to name the platform-admin groups.
        { name: 'adminGroups', expression: adminGroupsExpression(adminGroups) },
        {
          name: 'self',
          expression: 'request.userInfo.username == object.spec.user',
        },
        {
          name: 'gateway',
          expression: `has(request.userInfo.extra) && ${extra} in request.userInfo.extra && request.userInfo.extra[${extra}] == [object.spec.user]`,
        },
        {
          name: 'admin',
          expression:
            "has(request.userInfo.groups) && request.userInfo.groups.exists(g, g == 'system:masters' || g in variables.adminGroups)",
        },
      ],
      validations: [
        {
          expression: 'variables.self || variables.gateway || variables.admin',
          reason: 'Forbidden',
          messageExpression: `${celString(`${REFUSAL_PREFIX}: `)} + request.userInfo.username + ' is not User ' + object.spec.user + '. A personal key is created by its person (login name = User name), by the llm-tenancy gateway for the person it signed in, or by a platform admin (groups ' + variables.adminGroups.join(', ') + '); a team service key leaves spec.user empty'`,
        },
      ],
    },
  };
}

export function virtualKeyUserBinding() {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {
      name: VIRTUAL_KEY_USER_BINDING,
      labels: { 'app.kubernetes.io/part-of': 'llm-tenancy' },
    },
    spec: {
      policyName: VIRTUAL_KEY_USER_POLICY,
      validationActions: ['Deny'],
    },
  };
}
