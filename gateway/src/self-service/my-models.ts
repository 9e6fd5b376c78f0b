// GET /api/models: per team of the person, the models it may use and how far each is from
// usable: allowed by the Team (spec.models), subscribed in which namespaces and in which
// phase, and reachable now (status.models, the union of its Active subscriptions). A model
// the Team allows but no namespace subscribes to is "missing a subscription".
import type { ModelSubscription } from '../../../crds/api/index.ts';
import type { KubeAsPerson } from '../kube/person-kube.ts';
import type { MyTeam } from './my-teams.ts';
import { isForbidden } from './self-service-errors.ts';

export interface TeamModel {
  model: string;
  /** The Team's approval list names it (or is "*"). */
  allowed: boolean;
  /** In status.models: keys of this team can reach it now. */
  active: boolean;
  subscriptions: { namespace: string; name: string; phase: string; message: string | null }[];
  /** Allowed, but no namespace of the team subscribes to it: create a ModelSubscription. */
  missingSubscription: boolean;
}

export async function myModels(kube: KubeAsPerson, teams: readonly MyTeam[]) {
  const warnings: string[] = [];
  const result = [];
  for (const { team } of teams) {
    const subscriptions: ModelSubscription[] = [];
    for (const namespace of team.spec.namespaces ?? []) {
      try {
        subscriptions.push(...(await kube.listModelSubscriptions(namespace)).items);
      } catch (err) {
        if (!isForbidden(err)) throw err;
        warnings.push(
          `Kubernetes RBAC does not let you list ModelSubscriptions in ${namespace}: ${err.message}`,
        );
      }
    }
    const allowedList = team.spec.models ?? [];
    const allowsAll = allowedList.includes('*');
    const active = new Set(team.status?.models ?? []);
    const names = new Set([
      ...allowedList.filter((m) => m !== '*'),
      ...active,
      ...subscriptions.map((s) => s.spec.model),
    ]);
    const models: TeamModel[] = [...names].sort().map((model) => {
      const subs = subscriptions
        .filter((s) => s.spec.model === model)
        .map((s) => ({
          namespace: s.metadata.namespace ?? '',
          name: s.metadata.name ?? '',
          phase: s.status?.phase ?? 'Pending',
          message: s.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? null,
        }));
      const allowed = allowsAll || allowedList.includes(model);
      return {
        model,
        allowed,
        active: active.has(model),
        subscriptions: subs,
        missingSubscription: allowed && subs.length === 0,
      };
    });
    result.push({
      team: team.metadata.name ?? '',
      namespaces: team.spec.namespaces ?? [],
      allowsAllModels: allowsAll,
      models,
    });
  }
  return { teams: result, warnings };
}
