// The models a Team reaches in LiteLLM: the union of the Active ModelSubscriptions in its
// namespaces. Team.spec.models is only the approval list; approving is not subscribing.
import type { ModelSubscription } from '../../../../crds/api/index.ts';

/**
 * @param subscriptionsIn the ModelSubscriptions in a namespace
 * @returns model names, sorted and unique
 */
export function activeModels(
  team: string,
  namespaces: readonly string[],
  subscriptionsIn: (namespace: string) => readonly Pick<ModelSubscription, 'spec' | 'status'>[],
): string[] {
  const models = new Set<string>();
  for (const namespace of namespaces) {
    for (const subscription of subscriptionsIn(namespace)) {
      if (subscription.status?.phase !== 'Active') continue;
      // In a namespace two Teams claim, only the Team the subscription says it belongs to counts.
      const owner = subscription.status.team;
      if (owner !== undefined && owner !== team) continue;
      models.add(subscription.spec.model);
    }
  }
  return [...models].sort();
}
