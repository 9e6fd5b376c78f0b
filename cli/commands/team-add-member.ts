// kubectl llm team add-member TEAM USER: one more entry in spec.members (or a new role).
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { changeTeam } from '../team-change.ts';

export const teamAddMember: Command = {
  name: 'team add-member',
  summary: "Add a User to a Team's spec.members, or change their team role.",
  usage: 'TEAM USER [--role member|admin] [flags]',
  examples: [
    'kubectl llm team add-member ml-research alice',
    'kubectl llm team add-member ml-research bob --role admin --dry-run=client -o yaml',
  ],
  flags: {
    role: { type: 'string', value: 'ROLE', help: 'Team role: member (default) or admin.' },
  },
  uses: { namespace: false, dryRun: true },
  args: { min: 2, max: 2 },
  async run(ctx) {
    const [team, user] = ctx.args as [string, string];
    const role = ctx.values.role as string | undefined;
    if (role !== undefined && role !== 'member' && role !== 'admin') {
      throw new UsageError(`--role must be member or admin, not "${role}"`);
    }
    await changeTeam(
      ctx,
      team,
      (spec) => {
        const members = spec.members ?? [];
        const existing = members.find((m) => m.user === user);
        if (existing && (role === undefined || (existing.role ?? 'member') === role)) {
          return `${user} is already a member of Team ${team}`;
        }
        const entry = role === undefined || role === 'member' ? { user } : { user, role };
        return {
          members: existing
            ? members.map((m) => (m.user === user ? entry : m))
            : [...members, entry],
        } as never;
      },
      'member added',
      { members: `USER ${user}` },
    );
  },
};
