// Every command of the plugin, in the order --help lists them.
import type { Command } from '../command.ts';
import { keys } from './keys.ts';
import { subs } from './subs.ts';
import { teams } from './teams.ts';
import { users } from './users.ts';

export const commands: Command[] = [teams, users, keys, subs];
