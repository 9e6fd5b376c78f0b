// Which Teams a User is in: those whose status.members list it. The Team controller decides
// membership (spec members, groups, grace periods); the User only reports it, so `kubectl get
// users` shows the teams without anyone reading every Team.
import type { Team } from '../../../../crds/api/index.ts';
import type { Request } from '../../runtime/request.ts';

/** The names of the Teams listing `user` as a member, sorted. */
export function teamsOf(user: string, teams: readonly Team[]): string[] {
  return teams
    .filter((team) => team.status?.members?.some((m) => m.user === user))
    .map((team) => team.metadata.name!)
    .sort();
}

/** The Users a Team's membership concerns (the controller's watch on Teams). */
export function memberRequests(team: Team): Request[] {
  return (team.status?.members ?? []).map((m) => ({ name: m.user }));
}

/** A Team update matters to Users only when its member list changed. */
export function membersChanged(oldTeam: Team, newTeam: Team): boolean {
  return (
    JSON.stringify(oldTeam.status?.members ?? []) !== JSON.stringify(newTeam.status?.members ?? [])
  );
}
