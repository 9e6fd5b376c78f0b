// Ready and not Ready per kind, with the most common reasons among those not Ready. Namespaced
// kinds are counted across namespaces when RBAC allows, else in the current namespace.
import { ApiError } from '../errors.ts';
import type { AnyObject, KindName, Resources } from '../kube/resources.ts';
import { kindOf } from '../kube/resources.ts';
import { isReady, readyCondition } from '../output/conditions.ts';

export interface KindCount {
  kind: KindName;
  /** "all namespaces", "namespace x", or "cluster". */
  scope: string;
  ready: number;
  notReady: number;
  topReasons: { reason: string; count: number }[];
  /** Set when the kind could not be listed at all. */
  error?: string;
}

export function countObjects(kind: KindName, scope: string, items: AnyObject[]): KindCount {
  const reasons = new Map<string, number>();
  let ready = 0;
  for (const item of items) {
    if (isReady(item)) {
      ready++;
      continue;
    }
    const reason = readyCondition(item)?.reason ?? 'NoStatusYet';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const topReasons = [...reasons.entries()]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, 3);
  return { kind, scope, ready, notReady: items.length - ready, topReasons };
}

export async function countKind(
  resources: Resources,
  kind: KindName,
  namespace: string,
): Promise<KindCount> {
  const namespaced = kindOf(kind).scope === 'Namespaced';
  try {
    return countObjects(
      kind,
      namespaced ? 'all namespaces' : 'cluster',
      await resources.list(kind, undefined),
    );
  } catch (err) {
    if (!(err instanceof ApiError) || err.statusCode !== 403) throw err;
    if (!namespaced)
      return { kind, scope: 'cluster', ready: 0, notReady: 0, topReasons: [], error: err.message };
  }
  try {
    return countObjects(kind, `namespace ${namespace}`, await resources.list(kind, namespace));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return {
      kind,
      scope: `namespace ${namespace}`,
      ready: 0,
      notReady: 0,
      topReasons: [],
      error: err.message,
    };
  }
}
