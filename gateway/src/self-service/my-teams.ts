// The Teams a person belongs to, read as the person: a Team whose effective members
// (status.members, the operator's view), spec.members or spec.groups include them. When RBAC
// lets the person read no Teams, the answer says so instead of reading them as the gateway.
import type { Team } from '../../../crds/api/index.ts';
import type { KubeAsPerson } from '../kube/person-kube.ts';
import type { Principal } from '../signin/principal.ts';
import { isForbidden } from './self-service-errors.ts';

export interface MyTeam {
  team: Team;
  /** The person's role in the team. */
  role: 'admin' | 'member';
}

export interface MyTeams {
  teams: MyTeam[];
  /** Why some of the answer is missing (RBAC refused a read), for the person to see. */
  warnings: string[];
}

export async function myTeams(kube: KubeAsPerson, principal: Principal): Promise<MyTeams> {
  let all: Team[];
  try {
    all = (await kube.listTeams()).items;
  } catch (err) {
    if (!isForbidden(err)) throw err;
    return {
      teams: [],
      warnings: [`Kubernetes RBAC does not let you list Teams, so none are shown: ${err.message}`],
    };
  }
  const groups = new Set(principal.groups);
  const teams: MyTeam[] = [];
  for (const team of all) {
    const role = roleIn(team, principal.userName, groups);
    if (role) teams.push({ team, role });
  }
  return { teams, warnings: [] };
}

function roleIn(team: Team, userName: string, groups: Set<string>): MyTeam['role'] | undefined {
  if (!userName) return undefined; // the master key belongs to no team
  const effective = team.status?.members?.find((m) => m.user === userName);
  const declared = team.spec.members?.find((m) => m.user === userName);
  const byGroup = team.spec.groups?.some((g) => groups.has(g)) ?? false;
  if (effective?.role === 'admin' || declared?.role === 'admin') return 'admin';
  if (effective || declared || byGroup) return 'member';
  return undefined;
}

/** Every namespace of the person's teams, once. */
export function namespacesOf(teams: readonly MyTeam[]): string[] {
  return [...new Set(teams.flatMap(({ team }) => team.spec.namespaces ?? []))];
}
