// Who is in a group, from the two places that say so:
//  - OpenShift `user.openshift.io/v1` Groups (their `users` are OpenShift user names), and
//  - the `groups` claim the identity provider reported at each User's last login.
// Both are mapped to User object names, so a Team's members are always User names.

import type { User } from '../../../../crds/api/index.ts';
import { userObjectName } from '../../../../contracts/identity/user-object-name.ts';

export interface OpenShiftGroup {
  metadata?: { name?: string };
  users?: string[] | null;
}

/**
 * @param openShiftGroups every Group object, or undefined when the cluster has no Group API
 * @returns the User names in a group, or undefined when the group does not exist at all
 */
export function groupMembersIndex(
  openShiftGroups: readonly OpenShiftGroup[] | undefined,
  users: readonly Pick<User, 'metadata' | 'spec'>[],
): (group: string) => string[] | undefined {
  // An OpenShift user logs in through OpenShift OAuth with their user name as subject.
  const bySubject = new Map<string, string>();
  const claims = new Map<string, Set<string>>();
  for (const user of users) {
    const name = user.metadata.name!;
    if (user.spec.identity) bySubject.set(user.spec.identity.subject, name);
    for (const group of user.spec.groups ?? []) {
      if (!claims.has(group)) claims.set(group, new Set());
      claims.get(group)!.add(name);
    }
  }
  const openShift = new Map<string, string[]>();
  for (const group of openShiftGroups ?? []) {
    const members = (group.users ?? []).map(
      (login) => bySubject.get(login) ?? userObjectName(login),
    );
    openShift.set(group.metadata?.name ?? '', members);
  }

  return (group) => {
    const fromOpenShift = openShift.get(group);
    const fromClaims = claims.get(group);
    if (fromOpenShift === undefined && fromClaims === undefined) {
      // Without a Group API a group is only known through claims: no claim means empty, not gone.
      return openShiftGroups === undefined ? [] : undefined;
    }
    return [...new Set([...(fromOpenShift ?? []), ...(fromClaims ?? [])])].sort();
  };
}
