// The gateway's Kubernetes client for the people side: every call acts *as a person* through
// impersonation, so RBAC and the admission policies decide exactly as for that person's own
// kubectl. The gateway's ServiceAccount needs only `impersonate` on users, groups and the
// llmtenancy.dev/user-name extra; it reads and writes nothing under its own name. Only the
// verbs the self-service API uses are here.
import type { KubeConfig, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import type { z } from 'zod';
import type {
  ModelSubscription,
  Team,
  User,
  VirtualKey,
  VirtualKeySpec,
} from '../../../crds/api/index.ts';
import { API_VERSION } from '../../../crds/api/meta.ts';
import type { Impersonation } from '../signin/principal.ts';
import { impersonationHeaders, type ImpersonationHeaders } from './impersonation-headers.ts';
import { kubeApiError, KubeUnreachable } from './kube-errors.ts';
import { KubeTransport, type Method } from './kube-transport.ts';

const API = `/apis/${API_VERSION}`;

/** How much of every call may take before the person is told the cluster is slow. */
const CALL_TIMEOUT_MS = 15_000;

/** A VirtualKey to create: the API server applies the spec's defaults. */
export interface NewVirtualKey {
  apiVersion: string;
  kind: 'VirtualKey';
  metadata: V1ObjectMeta & { namespace: string };
  spec: z.input<typeof VirtualKeySpec>;
}

export interface List<T> {
  items: T[];
}

/** Who the API server takes the caller for (a SelfSubjectReview). */
export interface KubeIdentity {
  username: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export class PersonKube {
  readonly #transport: KubeTransport;

  constructor(kc: KubeConfig) {
    this.#transport = new KubeTransport(kc);
  }

  /** A client that acts as `person`; throws ImpersonationRefused for a value unsafe to send. */
  as(person: Impersonation): KubeAsPerson {
    return new KubeAsPerson(this.#transport, impersonationHeaders(person));
  }

  /** Connections opened to the API server so far (one keep-alive pool for every person). */
  get connectionsOpened(): number {
    return this.#transport.connectionsOpened;
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/** The last write a KubeAsPerson sent, as the audit trail records it. */
export interface KubeWrite {
  /** The API server's Audit-Id for it (undefined when it did not answer). */
  auditId: string | undefined;
  /** The object written, from the answer (a create's generated name, its uid). */
  name?: string;
  uid?: string;
}

export class KubeAsPerson {
  readonly #transport: KubeTransport;
  readonly #headers: ImpersonationHeaders;
  /** Made for one request, so this is that request's last write. */
  lastWrite: KubeWrite | undefined;

  constructor(transport: KubeTransport, headers: ImpersonationHeaders) {
    this.#transport = transport;
    this.#headers = headers;
  }

  whoAmI(): Promise<KubeIdentity> {
    return this.#call<{ status?: { userInfo?: Partial<KubeIdentity> } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    ).then((review) => ({
      username: review.status?.userInfo?.username ?? '',
      groups: review.status?.userInfo?.groups ?? [],
      extra: review.status?.userInfo?.extra ?? {},
    }));
  }

  /**
   * Whether RBAC lets the person `verb` our `resource` (in `namespace`, or in every
   * namespace): a SelfSubjectAccessReview, which reads nothing and needs no RBAC of its own.
   */
  can(verb: string, resource: string, namespace: string | undefined): Promise<boolean> {
    return this.#call<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            group: API_VERSION.split('/')[0],
            resource,
            verb,
            ...(namespace !== undefined && { namespace }),
          },
        },
      },
    ).then((review) => review.status?.allowed === true);
  }

  getUser(name: string): Promise<User> {
    return this.#call('GET', `${API}/users/${encodeURIComponent(name)}`);
  }

  listUsers(): Promise<List<User>> {
    return this.#call('GET', `${API}/users`);
  }

  getTeam(name: string): Promise<Team> {
    return this.#call('GET', `${API}/teams/${encodeURIComponent(name)}`);
  }

  listTeams(): Promise<List<Team>> {
    return this.#call('GET', `${API}/teams`);
  }

  /** In one namespace, or in all (`undefined`) where RBAC allows a cluster-wide list. */
  listVirtualKeys(namespace: string | undefined): Promise<List<VirtualKey>> {
    return this.#call('GET', `${namespaced(namespace)}/virtualkeys`);
  }

  listModelSubscriptions(namespace: string): Promise<List<ModelSubscription>> {
    return this.#call('GET', `${namespaced(namespace)}/modelsubscriptions`);
  }

  getVirtualKey(namespace: string, name: string): Promise<VirtualKey> {
    return this.#call('GET', `${namespaced(namespace)}/virtualkeys/${encodeURIComponent(name)}`);
  }

  createVirtualKey(key: NewVirtualKey): Promise<VirtualKey> {
    return this.#call('POST', `${namespaced(key.metadata.namespace)}/virtualkeys`, key);
  }

  /** Deletes exactly the object read (uid precondition): not one re-created under its name. */
  async deleteVirtualKey(namespace: string, name: string, uid: string): Promise<void> {
    await this.#call('DELETE', `${namespaced(namespace)}/virtualkeys/${encodeURIComponent(name)}`, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid },
    });
  }

  getSecret(namespace: string, name: string): Promise<V1Secret> {
    return this.#call(
      'GET',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
    );
  }

  async #call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
    const isWrite = method !== 'GET' && !path.endsWith('/selfsubjectreviews');
    if (isWrite) this.lastWrite = { auditId: undefined };
    const send = () =>
      this.#transport.send({ method, path, body, impersonate: this.#headers, signal });
    let response;
    try {
      response = await send().catch((err: unknown) => {
        // A pooled connection the far side (a load balancer, a restarting API server) closed
        // while idle fails the first request sent on it: a read is sent again, once, on a new
        // connection. A write is not: it may have reached the API server.
        if (signal.aborted || !(method === 'GET' || /\/selfsubject\w*reviews$/.test(path))) {
          throw err;
        }
        return send();
      });
    } catch (err) {
      throw new KubeUnreachable(
        `the Kubernetes API server did not answer: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (isWrite) {
      const metadata = (response.body as { metadata?: { name?: string; uid?: string } })?.metadata;
      this.lastWrite = {
        auditId: response.auditId,
        ...(response.statusCode < 300 && metadata?.name && { name: metadata.name }),
        ...(response.statusCode < 300 && metadata?.uid && { uid: metadata.uid }),
      };
    }
    if (response.statusCode >= 300) {
      throw kubeApiError(response.statusCode, response.body, response.text);
    }
    return response.body as T;
  }
}

function namespaced(namespace: string | undefined): string {
  return namespace === undefined ? API : `${API}/namespaces/${encodeURIComponent(namespace)}`;
}
