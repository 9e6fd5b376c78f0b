// Who leads the operator, from its Lease (coordination.k8s.io/v1), and whether its pods are
// Ready. The chart names the Lease <release fullname>-operator (LEADER_ELECTION_LEASE_NAME,
// default llm-tenancy-operator) in the release namespace; without --operator-lease the Leases
// of all namespaces are searched for such a name.
import { ApiError } from '../errors.ts';
import type { KubeRest } from '../kube/rest.ts';
import { shortDuration } from '../output/time.ts';

export interface OperatorReport {
  /** false only when something is wrong (a stale Lease); not finding one is not an error. */
  ok: boolean;
  /** A Lease was found and read: ok says something. */
  checked: boolean;
  lease?: string;
  leader?: string;
  renewedAgo?: string;
  fresh?: boolean;
  pods?: { ready: number; total: number };
  message: string;
}

interface Lease {
  metadata: { name: string; namespace: string };
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

export const DEFAULT_LEASE = 'llm-tenancy-operator';

/** The chart's and the operator's Lease names: "llm-tenancy-operator", "<release>-llm-tenancy-operator", … */
export const looksLikeOperatorLease = (name: string) =>
  name === DEFAULT_LEASE || (name.includes('llm-tenancy') && name.endsWith('-operator'));

export async function checkOperator(
  rest: KubeRest,
  leaseRef: string | undefined,
  now = Date.now(),
): Promise<OperatorReport> {
  let lease: Lease | undefined;
  try {
    if (leaseRef) {
      const [namespace, name] = leaseRef.includes('/')
        ? leaseRef.split('/', 2)
        : [undefined, leaseRef];
      if (!namespace) {
        return {
          ok: false,
          checked: false,
          message: `--operator-lease must be NAMESPACE/NAME, not "${leaseRef}"`,
        };
      }
      lease = await rest.request<Lease>({
        method: 'GET',
        path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
        summary: { verb: 'get', resource: 'leases.coordination.k8s.io', namespace, name },
      });
    } else {
      const list = await rest.request<{ items: Lease[] }>({
        method: 'GET',
        path: '/apis/coordination.k8s.io/v1/leases',
        summary: { verb: 'list', resource: 'leases.coordination.k8s.io' },
      });
      const found = list.items.filter((l) => looksLikeOperatorLease(l.metadata.name));
      if (found.length === 0) {
        return {
          ok: true,
          checked: false,
          message:
            'no operator Lease found: leader election is off (as in the dev stack), or the release is named otherwise (--operator-lease NAMESPACE/NAME)',
        };
      }
      lease = found[0];
    }
  } catch (err) {
    if (err instanceof ApiError && (err.statusCode === 403 || err.statusCode === 404)) {
      return {
        ok: err.statusCode === 403,
        checked: false,
        message:
          err.statusCode === 403
            ? `cannot tell: ${err.message.split(';')[0]}; pass --operator-lease NAMESPACE/NAME to read one Lease`
            : `Lease ${leaseRef} not found`,
      };
    }
    throw err;
  }
  const ref = `${lease!.metadata.namespace}/${lease!.metadata.name}`;
  const spec = lease!.spec ?? {};
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : undefined;
  const fresh =
    !!spec.holderIdentity &&
    renewed !== undefined &&
    renewed + (spec.leaseDurationSeconds ?? 15) * 1000 > now;
  const renewedAgo = renewed === undefined ? undefined : shortDuration(now - renewed);
  const pods = await operatorPods(rest, lease!.metadata.namespace);
  const podText = pods ? `; operator pods ${pods.ready}/${pods.total} Ready` : '';
  return {
    ok: fresh,
    checked: true,
    lease: ref,
    leader: spec.holderIdentity || undefined,
    renewedAgo,
    fresh,
    pods,
    message: fresh
      ? `leader ${spec.holderIdentity} (Lease ${ref}, renewed ${renewedAgo} ago)${podText}`
      : spec.holderIdentity
        ? `no live leader: Lease ${ref} held by ${spec.holderIdentity} was last renewed ${renewedAgo} ago${podText}; see the operator's logs`
        : `no leader: Lease ${ref} is released${podText}`,
  };
}

async function operatorPods(rest: KubeRest, namespace: string) {
  try {
    const pods = await rest.request<{
      items: { status?: { conditions?: { type: string; status: string }[] } }[];
    }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/pods`,
      query: {
        labelSelector: 'app.kubernetes.io/part-of=llm-tenancy,app.kubernetes.io/component=operator',
      },
      summary: { verb: 'list', resource: 'pods', namespace },
    });
    if (pods.items.length === 0) return undefined;
    const ready = pods.items.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    return { ready, total: pods.items.length };
  } catch {
    return undefined;
  }
}
