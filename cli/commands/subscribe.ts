// kubectl llm subscribe MODEL: the namespace's ModelSubscription to MODEL (created unless one
// exists), then the operator's decision: Active, or why not and what would change it. The
// approval itself lives in the admin-owned Team (spec.models), so for a Pending subscription
// this names the Team and the command its admin would run.
import type { ModelSubscription, Team } from '../../crds/api/index.ts';
import { DNS_SUBDOMAIN } from '../../crds/api/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { ApiError } from '../errors.ts';
import { buildObject, parseLabels } from '../manifest.ts';
import { isCurrent, readyCondition } from '../output/conditions.ts';
import { printObjects } from '../output/print.ts';
import { waitFor } from '../wait.ts';
import { createAndReport, labelsFlag } from '../write.ts';
import { parseTimeout } from './key-create.ts';

/** A model name as an object name: "meta-llama/Llama-3:8b" → "meta-llama-llama-3-8b". */
export function subscriptionName(model: string): string {
  const name = model
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 253);
  return DNS_SUBDOMAIN.test(name) ? name : 'model';
}

const decided = (s: ModelSubscription) => {
  const ready = readyCondition(s);
  return s.status?.phase !== undefined && ready !== undefined && isCurrent(s, ready);
};

async function readTeam(ctx: CommandContext, name: string | undefined) {
  if (!name) return undefined;
  try {
    return await ctx.resources().find<Team>('Team', name);
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403) return undefined;
    throw err;
  }
}

/** The explanation under the phase: what would make the subscription Active. */
export function explainSubscription(s: ModelSubscription, team: Team | undefined): string[] {
  const ready = readyCondition(s);
  const model = s.spec.model;
  const namespace = s.metadata.namespace!;
  const lines = [ready?.message ?? ''];
  const teamName = s.status?.team;
  switch (ready?.reason) {
    case 'NotApproved':
      lines.push(
        `To approve it, a Team admin adds ${model} to Team ${teamName}'s spec.models (a pull request to the Team in Git), or runs:`,
        `  kubectl llm team allow-model ${teamName} ${model}`,
      );
      if (team) {
        const allowed = team.spec.models?.length ? team.spec.models.join(', ') : 'none yet';
        lines.push(`Team ${teamName} allows: ${allowed}`);
      }
      break;
    case 'ModelNotFound':
      lines.push(
        `LiteLLM does not serve a model named ${model}: check the spelling against the models your platform offers; the subscription turns Active by itself once LiteLLM serves it.`,
      );
      break;
    case 'NoTeam':
      lines.push(`A platform admin adds ${namespace} to a Team's spec.namespaces.`);
      break;
    case 'Suspended':
      lines.push(
        `Resume it: kubectl patch modelsubscription ${s.metadata.name} -n ${namespace} --type merge -p '{"spec":{"suspended":false}}'`,
      );
      break;
  }
  return lines.filter((l) => l !== '');
}

export const subscribe: Command = {
  name: 'subscribe',
  summary:
    "Subscribe the namespace's Team to a model; print Active, or why Pending and what approves it.",
  usage: 'MODEL [--name NAME] [flags]',
  description:
    'Creates a ModelSubscription for MODEL in the namespace unless one exists, waits for the operator to decide (up to --timeout), and explains the decision.',
  examples: ['kubectl llm subscribe granite-3-8b -n ml-research'],
  flags: {
    name: {
      type: 'string',
      value: 'NAME',
      help: 'Name of the new ModelSubscription (default: from the model name).',
    },
    timeout: {
      type: 'string',
      value: 'DURATION',
      help: "How long to wait for the operator's decision (default 30s).",
    },
    ...labelsFlag,
  },
  uses: { dryRun: true },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const model = ctx.args[0]!;
    const v = ctx.values as Record<string, string | undefined>;
    const timeoutMs = parseTimeout(v.timeout, 30_000);
    const namespace = ctx.connection().namespace;
    const object = buildObject(
      {
        kind: 'ModelSubscription',
        name: v.name ?? subscriptionName(model),
        namespace,
        labels: parseLabels(v.labels),
        spec: { model },
      },
      { model: 'MODEL' },
    );
    if (ctx.global.dryRun === 'client') {
      await createAndReport(ctx, object);
      return;
    }
    const existing = (
      await ctx.resources().list<ModelSubscription>('ModelSubscription', namespace)
    ).find((s) => s.spec.model === model);
    let subscription: ModelSubscription;
    if (existing) {
      ctx.io.err(`ModelSubscription ${namespace}/${existing.metadata.name} for ${model} exists\n`);
      subscription = existing;
    } else {
      subscription = (await createAndReport(ctx, object)) as unknown as ModelSubscription;
      if (ctx.global.dryRun === 'server') return;
    }
    const name = subscription.metadata.name!;
    const outcome = await waitFor<ModelSubscription>(ctx, {
      what: `the operator's decision on ModelSubscription ${namespace}/${name}`,
      read: () => ctx.resources().find<ModelSubscription>('ModelSubscription', name, namespace),
      done: decided,
      timeoutMs,
    });
    if (!outcome.done) {
      ctx.io.err(
        `error: no decision on ModelSubscription ${namespace}/${name} after ${timeoutMs / 1000}s: is the operator running? (kubectl llm status)\n`,
      );
      return 1;
    }
    subscription = outcome.object;
    const machine = printObjects(subscription as never, ctx.global.output);
    if (machine !== undefined) {
      ctx.io.out(machine);
      return;
    }
    const ready = readyCondition(subscription);
    const team =
      ready?.reason === 'NotApproved' ? await readTeam(ctx, subscription.status?.team) : undefined;
    ctx.io.out(
      `ModelSubscription ${namespace}/${name} (${model}): ${subscription.status?.phase}` +
        (ready && ready.reason !== 'Active' ? ` (${ready.reason})` : '') +
        '\n' +
        explainSubscription(subscription, team)
          .map((line) => `${line}\n`)
          .join(''),
    );
  },
};
