// What a ModelSubscription is, as a pure function of what the caches say. The rules, in
// order (the first that applies decides):
//
//   1. no Team claims the namespace (one being deleted counts as none)  Denied   NoTeam
//      several Teams claim it                                           Denied   NamespaceConflict
//   2. spec.suspended                                                   Suspended Suspended
//   3. LiteLLM does not serve the model                                 Pending  ModelNotFound
//   4. the Team's spec.models lists neither the model nor "*"           Pending  NotApproved
//   5. otherwise                                                        Active   Active
//
// Rule 3 needs the model catalog. While it has not answered yet (the operator just started)
// there is no decision: the catalog's first answer re-checks every subscription, so a restart
// changes nothing. When LiteLLM has never answered, nothing is guessed: Ready=Unknown with
// LiteLLM's error and the phase kept (an Active subscription stays Active, a new one is
// Pending) — except that a model the Team no longer approves stops being Active at once,
// since that needs no catalog.
import type { SubscriptionPhase } from '../../../../crds/api/index.ts';
import type { ModelFacts } from '../../litellm/model-catalog.ts';
import type { ConditionStatus } from '../../runtime/conditions.ts';

export type SubscriptionReason =
  | 'NoTeam'
  | 'NamespaceConflict'
  | 'Suspended'
  | 'ModelCatalogUnavailable'
  | 'ModelNotFound'
  | 'NotApproved'
  | 'Active';

/** A Team whose spec.namespaces lists the subscription's namespace. */
export interface ClaimingTeam {
  name: string;
  /** spec.models: the approval list; ["*"] approves every model. */
  models?: readonly string[];
}

/** The model catalog, as far as one model goes. */
export type CatalogView =
  | { state: 'loading' }
  | { state: 'unavailable'; message: string }
  /** facts: undefined when LiteLLM does not serve the model. */
  | { state: 'loaded'; facts: ModelFacts | undefined };

export interface SubscriptionFacts {
  namespace: string;
  model: string;
  suspended: boolean;
  /** The Teams claiming the namespace, without those being deleted. */
  teams: readonly ClaimingTeam[];
  catalog: CatalogView;
  /** The phase status records now. */
  currentPhase?: SubscriptionPhase;
}

export interface SubscriptionDecision {
  phase: SubscriptionPhase;
  /** The owning Team, whenever exactly one claims the namespace. */
  team?: string;
  ready: { status: ConditionStatus; reason: SubscriptionReason; message: string };
  /** status.modelInfo; 'keep' when the catalog cannot tell (leave what status has). */
  modelInfo: ModelFacts | undefined | 'keep';
}

/** The decision, or undefined while the catalog has not answered and rule 3 needs it. */
export function decideSubscription(facts: SubscriptionFacts): SubscriptionDecision | undefined {
  const { namespace, model, catalog } = facts;
  // Facts are shown whatever the phase (a Team admin deciding on approval wants them too).
  const modelInfo =
    catalog.state !== 'loaded'
      ? 'keep'
      : catalog.facts && Object.keys(catalog.facts).length > 0
        ? { ...catalog.facts }
        : undefined;
  const decided = (
    phase: SubscriptionPhase,
    reason: SubscriptionReason,
    message: string,
    team?: string,
  ): SubscriptionDecision => ({
    phase,
    team,
    ready: { status: reason === 'Active' ? 'True' : 'False', reason, message },
    modelInfo,
  });

  if (facts.teams.length === 0) {
    return decided(
      'Denied',
      'NoTeam',
      `no Team claims namespace ${namespace}: a platform admin adds it to one Team's spec.namespaces`,
    );
  }
  if (facts.teams.length > 1) {
    const names = facts.teams.map((t) => t.name).sort();
    return decided(
      'Denied',
      'NamespaceConflict',
      `namespace ${namespace} is claimed by Teams ${joinNames(names)}; a namespace belongs to at most one Team, so none of them gets this subscription until all but one drop it`,
    );
  }
  const team = facts.teams[0]!;
  if (facts.suspended) {
    return decided(
      'Suspended',
      'Suspended',
      `spec.suspended is true: Team ${team.name} does not use model ${model} through this subscription`,
      team.name,
    );
  }

  const approved = team.models?.includes('*') || team.models?.includes(model) === true;
  const notApproved = () =>
    decided(
      'Pending',
      'NotApproved',
      `model ${model} is not in Team ${team.name}'s spec.models; a Team admin approves it by adding it there`,
      team.name,
    );
  switch (catalog.state) {
    case 'loading':
      return undefined;
    case 'unavailable':
      if (!approved) return notApproved();
      return {
        phase: facts.currentPhase === 'Active' ? 'Active' : 'Pending',
        team: team.name,
        ready: {
          status: 'Unknown',
          reason: 'ModelCatalogUnavailable',
          message: `cannot tell whether LiteLLM serves model ${model}: ${catalog.message}`,
        },
        modelInfo,
      };
    case 'loaded':
      if (!catalog.facts) {
        return decided(
          'Pending',
          'ModelNotFound',
          `model ${model} is not served by LiteLLM`,
          team.name,
        );
      }
  }
  if (!approved) return notApproved();
  return decided(
    'Active',
    'Active',
    `Team ${team.name} may use model ${model} through this subscription`,
    team.name,
  );
}

function joinNames(names: readonly string[]): string {
  return names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
