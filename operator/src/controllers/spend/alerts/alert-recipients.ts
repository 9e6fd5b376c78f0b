// Who gets a budget alert by e-mail, from the informer caches:
//
//   User                              its spec.email
//   VirtualKey with spec.user         that User's e-mail (a personal key)
//   Team                              its admins: spec.members with role admin → their Users'
//                                     e-mails (members from groups are never admins)
//   VirtualKey without spec.user      its Team's (status.team) admins (a team key)
//
// Anyone without an e-mail is left out; no recipient at all → the e-mail sink skips it.
import type { Team, User, VirtualKey } from '../../../../../crds/api/index.ts';
import type { ObjectStore } from '../../../runtime/cache.ts';
import type { BudgetAlert } from './budget-alert.ts';

export interface RecipientStores {
  users: Pick<ObjectStore<User>, 'getByName'>;
  teams: Pick<ObjectStore<Team>, 'getByName'>;
  keys: Pick<ObjectStore<VirtualKey>, 'getByName'>;
}

export type Recipients = (alert: Pick<BudgetAlert, 'kind' | 'namespace' | 'name'>) => string[];

export function alertRecipients(stores: RecipientStores): Recipients {
  const emailOf = (user: string | undefined) =>
    user ? stores.users.getByName(user)?.spec?.email : undefined;
  const adminsOf = (team: string | undefined) =>
    (team ? (stores.teams.getByName(team)?.spec?.members ?? []) : [])
      .filter((m) => m.role === 'admin')
      .map((m) => emailOf(m.user));
  const found = (emails: (string | undefined)[]) =>
    [...new Set(emails.filter((e): e is string => !!e))].sort();

  return ({ kind, namespace, name }) => {
    switch (kind) {
      case 'User':
        return found([emailOf(name)]);
      case 'Team':
        return found(adminsOf(name));
      case 'VirtualKey': {
        const key = stores.keys.getByName(name, namespace);
        if (!key) return [];
        return key.spec?.user ? found([emailOf(key.spec.user)]) : found(adminsOf(key.status?.team));
      }
    }
  };
}
