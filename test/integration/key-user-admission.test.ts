// Who may name which person in VirtualKey spec.user, decided by the API server at apply time
// (the ValidatingAdmissionPolicy of crds/admission/, which the test bed installs as a cluster
// would). Tenants get examples/tenant-rbac.yaml; the admin impersonates them as RBAC sees them.
// The gateway and a hostile tenant act with real ServiceAccount tokens, so what each may
// impersonate is decided by RBAC, not by the admin's certificate. Every test that shows a
// request allowed also shows a refusal in the same setting: none passes without the policy.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ApiException,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DEFAULT_ADMIN_GROUPS,
  REFUSAL_PREFIX,
  USER_NAME_EXTRA,
  VIRTUAL_KEY_USER_POLICY,
} from '../../crds/admission/virtual-key-user.ts';
import { userObjectName } from '../../contracts/identity/user-object-name.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { createAll, impersonatingWith, serviceAccountKubeConfig } from './support/principals.ts';
import { GROUP, suffix, VERSION } from './support/team-operator.ts';
import { rbacInEffect, tenantRbac, type RbacObject, type Tenant } from './support/tenant-rbac.ts';

const run = promisify(execFile);
const rbacGroup = 'rbac.authorization.k8s.io';

/** 'allowed', or the status and message the API server refused the request with. */
async function outcome(
  call: Promise<unknown>,
): Promise<'allowed' | { code: number; message: string }> {
  try {
    await call;
    return 'allowed';
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message = (body as { message?: string } | undefined)?.message ?? String(err.body);
    return { code: err.code, message };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

describe('VirtualKey spec.user admission', () => {
  const id = suffix();
  const tenant: Tenant = { namespace: `adm-${id}`, group: `adm-devs-${id}`, user: `dev-${id}` };
  const A = tenant.namespace;
  const alice = `alice-${id}`;
  let admin: KubeConfig;
  let rbac: RbacObject[];
  let n = 0;

  function createKey(kc: KubeConfig, spec: Record<string, unknown>, name = `key-${++n}`) {
    return kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'virtualkeys',
      namespace: A,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VirtualKey',
        metadata: { name, namespace: A },
        spec,
      },
    });
  }

  const asTenant = () => impersonatingWith(admin, { user: tenant.user, group: tenant.group });

  /** The policy's refusal: 403, naming the rule and who asked for whom. */
  function expectRefused(
    result: Awaited<ReturnType<typeof outcome>>,
    requester: string,
    user: string,
  ) {
    expect(result).not.toBe('allowed');
    const { code, message } = result as { code: number; message: string };
    expect(code).toBe(403);
    expect(message).toContain(`ValidatingAdmissionPolicy '${VIRTUAL_KEY_USER_POLICY}'`);
    expect(message).toContain(`${REFUSAL_PREFIX}: ${requester} is not User ${user}`);
    expect(message).toContain('by the llm-tenancy gateway for the person it signed in');
  }

  beforeAll(async () => {
    admin = kubeConfigFromInject();
    await createAll(admin, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: A } } as RbacObject,
    ]);
    rbac = await tenantRbac(id, [tenant]);
    await createAll(admin, rbac);
    await rbacInEffect(admin, { user: tenant.user, groups: [tenant.group] }, A);
  });

  afterAll(async () => {
    const api = KubernetesObjectApi.makeApiClient(admin);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await api.delete(object).catch(() => {});
    }
  });

  it("refuses a tenant's personal key for another person at apply time, naming the rule", async () => {
    expectRefused(
      await outcome(createKey(asTenant(), { user: alice }, 'for-alice')),
      tenant.user,
      alice,
    );
    expect(
      await outcome(
        admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'virtualkeys',
          namespace: A,
          name: 'for-alice',
        }),
      ),
    ).toMatchObject({ code: 404 });

    // kubectl apply shows the same refusal where the user is looking.
    const manifest = JSON.stringify({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualKey',
      metadata: { name: 'kubectl-for-alice', namespace: A },
      spec: { user: alice },
    });
    const kubectl = run(
      inject('kubectlPath'),
      [
        '--kubeconfig',
        inject('kubeconfigPath'),
        '--as',
        tenant.user,
        '--as-group',
        tenant.group,
        'apply',
        '-f',
        '-',
      ],
      {},
    );
    kubectl.child.stdin!.end(manifest);
    const failed = await kubectl.then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(failed?.stderr).toContain(`${REFUSAL_PREFIX}: ${tenant.user} is not User ${alice}`);
  });

  it('lets a tenant create a personal key for themself (login name = User name), and a service key', async () => {
    expect(await outcome(createKey(asTenant(), { user: tenant.user }))).toBe('allowed');
    expect(await outcome(createKey(asTenant(), {}))).toBe('allowed');
    expectRefused(await outcome(createKey(asTenant(), { user: alice })), tenant.user, alice);
  });

  it('lets a member of a platform-admin group name anyone; the same person without the group is refused', async () => {
    const platform = `platform-${id}`;
    // RBAC for the person alone (not through the group), so only the policy tells them apart.
    await createAll(admin, [
      {
        apiVersion: `${rbacGroup}/v1`,
        kind: 'RoleBinding',
        metadata: { name: `llm-tenant-${platform}`, namespace: A },
        subjects: [{ apiGroup: rbacGroup, kind: 'User', name: platform }],
        roleRef: { apiGroup: rbacGroup, kind: 'Role', name: 'llm-tenant' },
      } as RbacObject,
    ]);
    await rbacInEffect(admin, { user: platform }, A);
    const asAdmin = impersonatingWith(admin, { user: platform, group: DEFAULT_ADMIN_GROUPS[0] });
    expect(await outcome(createKey(asAdmin, { user: alice }))).toBe('allowed');
    const asPerson = impersonatingWith(admin, { user: platform });
    expectRefused(await outcome(createKey(asPerson, { user: alice })), platform, alice);
  });

  describe('the gateway acting for a person, and a tenant forging that', () => {
    // A login the login → User name rule hashes: CEL cannot compute its User name.
    const login = `Alice.Example-${id}@Corp.example`;
    const aliceUser = userObjectName(login);
    let gateway: KubeConfig;
    let hostile: { kubeConfig: KubeConfig; username: string };

    beforeAll(async () => {
      const gatewayNamespace = `adm-gw-${id}`;
      await createAll(admin, [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: gatewayNamespace } } as RbacObject,
      ]);
      const sa = await serviceAccountKubeConfig(admin, gatewayNamespace, 'gateway');
      // What the gateway's ClusterRole grants: impersonating people, their groups, and the
      // one extra that names their User.
      await createAll(admin, [
        {
          apiVersion: `${rbacGroup}/v1`,
          kind: 'ClusterRole',
          metadata: { name: `llm-tenancy-gateway-${id}` },
          rules: [
            { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
            {
              apiGroups: ['authentication.k8s.io'],
              resources: [`userextras/${USER_NAME_EXTRA}`],
              verbs: ['impersonate'],
            },
          ],
        } as RbacObject,
        {
          apiVersion: `${rbacGroup}/v1`,
          kind: 'ClusterRoleBinding',
          metadata: { name: `llm-tenancy-gateway-${id}` },
          subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: gatewayNamespace }],
          roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: `llm-tenancy-gateway-${id}` },
        } as RbacObject,
      ]);
      gateway = sa.kubeConfig;

      // A hostile tenant with a real credential: the example's Role, plus what the built-in
      // `edit` role also grants, impersonating the namespace's ServiceAccounts.
      hostile = await serviceAccountKubeConfig(admin, A, 'tenant-app');
      await createAll(admin, [
        {
          apiVersion: `${rbacGroup}/v1`,
          kind: 'Role',
          metadata: { name: 'impersonate-serviceaccounts', namespace: A },
          rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }],
        } as RbacObject,
        ...['llm-tenant', 'impersonate-serviceaccounts'].map(
          (role) =>
            ({
              apiVersion: `${rbacGroup}/v1`,
              kind: 'RoleBinding',
              metadata: { name: `${role}-tenant-app`, namespace: A },
              subjects: [{ kind: 'ServiceAccount', name: 'tenant-app', namespace: A }],
              roleRef: { apiGroup: rbacGroup, kind: 'Role', name: role },
            }) as RbacObject,
        ),
      ]);
      await rbacInEffect(admin, { user: hostile.username }, A);
    });

    it("lets the gateway name the User of the person it impersonates (the user extra); that person's own kubectl cannot", async () => {
      expect(aliceUser).not.toBe(login); // hashed: not matchable by CEL
      const viaGateway = impersonatingWith(gateway, {
        user: login,
        group: tenant.group,
        extra: { [USER_NAME_EXTRA]: aliceUser },
      });
      expect(await outcome(createKey(viaGateway, { user: aliceUser }))).toBe('allowed');
      // The documented limitation: a hashed login cannot name itself through kubectl.
      const direct = impersonatingWith(admin, { user: login, group: tenant.group });
      expectRefused(await outcome(createKey(direct, { user: aliceUser })), login, aliceUser);
      // The extra names one User: the gateway cannot name another with it.
      expectRefused(await outcome(createKey(viaGateway, { user: alice })), login, alice);
    });

    it('refuses a tenant who sets the user extra itself: the API server will not impersonate it', async () => {
      const forged = impersonatingWith(hostile.kubeConfig, {
        user: hostile.username,
        extra: { [USER_NAME_EXTRA]: alice },
      });
      const result = await outcome(createKey(forged, { user: alice }, 'forged'));
      expect(result).toMatchObject({ code: 403 });
      expect((result as { message: string }).message).toContain(
        `cannot impersonate resource "userextras/${USER_NAME_EXTRA}"`,
      );
      // Impersonating a ServiceAccount it may impersonate does not carry the extra either.
      const viaServiceAccount = impersonatingWith(hostile.kubeConfig, {
        user: hostile.username,
      });
      expectRefused(
        await outcome(createKey(viaServiceAccount, { user: alice }, 'forged')),
        hostile.username,
        alice,
      );
      expectRefused(
        await outcome(createKey(hostile.kubeConfig, { user: alice }, 'forged')),
        hostile.username,
        alice,
      );
    });
  });

  it('never evaluates updates: a tenant suspends a personal key an admin made for someone else', async () => {
    await createKey(admin, { user: alice }, 'admins-key-for-alice');
    const patched = await outcome(
      asTenant()
        .makeApiClient(CustomObjectsApi)
        .patchNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'virtualkeys',
          namespace: A,
          name: 'admins-key-for-alice',
          body: [{ op: 'add', path: '/spec/suspended', value: true }],
        }),
    );
    expect(patched).toBe('allowed');
    // And the creation itself was the policy's: the tenant could not have made it.
    expectRefused(await outcome(createKey(asTenant(), { user: alice })), tenant.user, alice);
  });
});
