// kubectl llm team allow-model TEAM MODEL: approve a model for a Team (spec.models), which is
// what turns the team's Pending subscriptions to it Active.
import type { Command } from '../command.ts';
import { changeTeam } from '../team-change.ts';

export const teamAllowModel: Command = {
  name: 'team allow-model',
  summary: 'Approve a model for a Team (add it to spec.models): its subscriptions become Active.',
  usage: 'TEAM MODEL [flags]',
  examples: [
    'kubectl llm team allow-model ml-research granite-3-8b',
    'kubectl llm team allow-model ml-research granite-3-8b --dry-run=client -o yaml',
  ],
  uses: { namespace: false, dryRun: true },
  args: { min: 2, max: 2 },
  async run(ctx) {
    const [team, model] = ctx.args as [string, string];
    await changeTeam(
      ctx,
      team,
      (spec) => {
        const models = spec.models ?? [];
        if (models.includes('*')) return `Team ${team} already allows every model ("*")`;
        if (models.includes(model)) return `Team ${team} already allows ${model}`;
        return { models: [...models, model] };
      },
      'model allowed',
      { models: `MODEL "${model}"` },
    );
  },
};
