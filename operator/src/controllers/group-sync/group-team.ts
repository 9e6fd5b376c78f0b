// The Team group sync keeps for an OpenShift Group, and how to recognise one. Group sync owns
// only what it declares through server-side apply (field manager llm-tenancy-group-sync): the
// label, the annotation and spec.groups. Admins add namespaces, models and limits to the same
// Team with their own field managers; group sync never touches those.
import { API_VERSION, type Team } from '../../../../crds/api/index.ts';
import { teamNameForGroup } from '../../../../contracts/identity/team-object-name.ts';

/** Marks a Team group sync created. Its value is the group name when that fits a label value. */
export const GROUP_LABEL = 'llmtenancy.dev/group';
/** The exact group name (label values cannot hold every group name). */
export const GROUP_NAME_ANNOTATION = 'llmtenancy.dev/group-name';
export const GROUP_SYNC_FIELD_MANAGER = 'llm-tenancy-group-sync';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function groupLabelValue(group: string): string {
  return group.length <= 63 && LABEL_VALUE.test(group) ? group : teamNameForGroup(group);
}

/** The server-side apply body for a group's Team. */
export function groupTeamManifest(group: string) {
  return {
    apiVersion: API_VERSION,
    kind: 'Team',
    metadata: {
      name: teamNameForGroup(group),
      labels: { [GROUP_LABEL]: groupLabelValue(group) },
      annotations: { [GROUP_NAME_ANNOTATION]: group },
    },
    spec: { groups: [group] },
  };
}

/** The group a Team was created for by group sync; undefined for any other Team. */
export function syncedGroupOf(team: Pick<Team, 'metadata'>): string | undefined {
  if (team.metadata?.labels?.[GROUP_LABEL] === undefined) return undefined;
  return team.metadata.annotations?.[GROUP_NAME_ANNOTATION];
}

/** True when the Team already carries everything group sync would apply. */
export function hasGroupSyncFields(
  team: Pick<Team, 'metadata'> & { spec?: { groups?: readonly string[] } },
  group: string,
): boolean {
  return (
    team.metadata?.labels?.[GROUP_LABEL] === groupLabelValue(group) &&
    team.metadata.annotations?.[GROUP_NAME_ANNOTATION] === group &&
    (team.spec?.groups ?? []).includes(group)
  );
}
