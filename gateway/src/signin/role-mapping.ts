// A person's platform role from their groups (ROLE_GROUPS): the highest role any of their
// groups grants, else DEFAULT_ROLE.
import type { UserRole } from '../../../crds/api/user.ts';

/** Highest first. */
const RANKED: readonly UserRole[] = ['admin', 'manager', 'user', 'viewer'];

export function roleFor(
  groups: readonly string[],
  roleGroups: Partial<Record<UserRole, readonly string[]>>,
  defaultRole: UserRole,
): UserRole {
  const mine = new Set(groups);
  return RANKED.find((role) => roleGroups[role]?.some((g) => mine.has(g))) ?? defaultRole;
}
