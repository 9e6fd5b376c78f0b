// Every command of the plugin, in the order --help lists them.
import type { Command } from '../command.ts';
import { completion } from './completion.ts';
import { keyCreate } from './key-create.ts';
import { keyDelete } from './key-delete.ts';
import { keyResume } from './key-resume.ts';
import { keyRotate } from './key-rotate.ts';
import { keySuspend } from './key-suspend.ts';
import { keys } from './keys.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { status } from './status.ts';
import { subs } from './subs.ts';
import { subscribe } from './subscribe.ts';
import { teamAddMember } from './team-add-member.ts';
import { teamAllowModel } from './team-allow-model.ts';
import { teamCreate } from './team-create.ts';
import { teamSetBudget } from './team-set-budget.ts';
import { teams } from './teams.ts';
import { usage } from './usage.ts';
import { userCreate } from './user-create.ts';
import { users } from './users.ts';
import { whoami } from './whoami.ts';

export const commands: Command[] = [
  status,
  teams,
  users,
  keys,
  subs,
  keyCreate,
  keyRotate,
  keySuspend,
  keyResume,
  keyDelete,
  subscribe,
  teamCreate,
  teamAddMember,
  teamSetBudget,
  teamAllowModel,
  userCreate,
  usage,
  login,
  whoami,
  logout,
  completion,
];
