// The name of the Team made for a group: by group sync for an OpenShift Group, and by the
// gateway at a login when SIGNIN_AUTO_CREATE_TEAMS is on, so both agree on one group's Team.
// Team names are DNS labels (they become LiteLLM team ids and label values); group names are
// looser. A group name that
// already is a DNS label is used as it is; any other is lower-cased, has each run of other
// characters replaced by "-", and gets a short hash of the original, so two groups never map
// to one Team ("ML_Research" and "ml-research" stay apart).
import { createHash } from 'node:crypto';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX = 63;
const HASH_LENGTH = 8;

export function teamNameForGroup(group: string): string {
  if (group.length <= MAX && DNS_LABEL.test(group)) return group;
  const hash = createHash('sha256').update(group).digest('hex').slice(0, HASH_LENGTH);
  const stem = group
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX - HASH_LENGTH - 1)
    .replace(/-+$/, '');
  return stem ? `${stem}-${hash}` : `group-${hash}`;
}
