// kubectl llm key create NAME: a VirtualKey, optionally waited for until Ready, then how to
// use it. The operator mints the key into a Secret; this never sees LiteLLM.
import { parseDuration } from '../../contracts/config/duration.ts';
import type { VirtualKey } from '../../crds/api/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { ApiError, CliError, UsageError } from '../errors.ts';
import { keyUsage, secretNameOf, type KeySecretValues } from '../key-usage.ts';
import { buildObject, parseLabels, parseList } from '../manifest.ts';
import { checkModels } from '../model-access.ts';
import { isReady } from '../output/conditions.ts';
import { shortDuration } from '../output/time.ts';
import { waitFor } from '../wait.ts';
import { createAndReport, labelsFlag, reportWrite } from '../write.ts';
import type { AnyObject } from '../kube/resources.ts';

/** What to do about a key that is not Ready, by its reason. */
const NEXT_STEP: Record<string, string> = {
  NoTeam: "a platform admin adds the namespace to a Team's spec.namespaces",
  ModelsNotSubscribed: 'subscribe to the missing models: kubectl llm subscribe MODEL -n NAMESPACE',
  NoSubscribedModels: 'subscribe to a model first: kubectl llm subscribe MODEL -n NAMESPACE',
  UserNotFound: 'create the User (kubectl llm user create) or let them sign in once',
  UserNotMember: 'a Team admin adds the user: kubectl llm team add-member TEAM USER',
  TeamNotReady: 'see why the Team is not Ready: kubectl llm teams',
  UserNotReady: 'see why the User is not Ready: kubectl llm users',
};

export function nextStep(reason: string, namespace: string): string | undefined {
  return NEXT_STEP[reason]?.replaceAll('NAMESPACE', namespace);
}

async function secretValues(
  ctx: CommandContext,
  key: VirtualKey,
): Promise<KeySecretValues | undefined> {
  const namespace = key.metadata.namespace!;
  const name = secretNameOf(key);
  try {
    const secret = await ctx.resources().rest.request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/secrets/${name}`,
      summary: { verb: 'get', resource: 'secrets', namespace, name },
    });
    const decode = (k: string) => {
      const v = secret.data?.[k];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
    };
    return {
      apiKey: decode(key.spec.secret?.apiKeyKey ?? 'OPENAI_API_KEY'),
      baseUrl: decode(key.spec.secret?.baseUrlKey ?? 'OPENAI_BASE_URL'),
    };
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`--show-key: ${err.message}`);
    throw err;
  }
}

export function parseTimeout(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new UsageError(`--timeout must be a duration like 90s or 5m, not "${text}"`);
  return ms;
}

export const keyCreate: Command = {
  name: 'key create',
  summary: 'Create a VirtualKey; --wait until it is Ready; print how to use it.',
  usage:
    'NAME [--models a,b] [--user USER] [--budget AMOUNT] [--duration D] [--rotate-every D] [--wait] [--show-key] [flags]',
  description: `
Without --models the key reaches every model the namespace's Team subscribes to. The key
itself is written by the operator to a Secret (named like the key); it is printed only with
--show-key. With --wait the command shows the key's progress and exits 1 with the waiting
reason if it is not Ready within --timeout.`,
  examples: [
    'kubectl llm key create chatbot -n ml-research --models granite-3-8b --budget 50 --wait',
    'kubectl llm key create alice-laptop -n ml-research --user alice --duration 30d --wait --show-key',
    'kubectl llm key create chatbot -n ml-research --rotate-every 30d --dry-run=client -o yaml',
  ],
  flags: {
    models: { type: 'string', value: 'a,b', help: 'Models the key may reach.' },
    user: { type: 'string', value: 'USER', help: 'The User the key belongs to (a personal key).' },
    budget: {
      type: 'string',
      value: 'AMOUNT',
      help: 'Spend allowed for the key, US dollars, e.g. 50 or 12.50.',
    },
    'budget-duration': {
      type: 'string',
      value: 'DURATION',
      help: 'How often the budget resets, e.g. 30d or 1mo (needs --budget).',
    },
    duration: { type: 'string', value: 'DURATION', help: 'Key lifetime, e.g. 30d or 12h.' },
    'rotate-every': {
      type: 'string',
      value: 'DURATION',
      help: 'Rotate the key this often, e.g. 30d (at least 1h).',
    },
    wait: { type: 'boolean', help: 'Wait until the key is Ready, showing progress.' },
    timeout: {
      type: 'string',
      value: 'DURATION',
      help: 'How long --wait waits (default 2m).',
    },
    'show-key': { type: 'boolean', help: 'Print the key value (read from its Secret).' },
    ...labelsFlag,
  },
  uses: { dryRun: true },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const v = ctx.values as Record<string, string | undefined>;
    const timeoutMs = parseTimeout(v.timeout, 120_000);
    const namespace = ctx.connection().namespace;
    const models = parseList(v.models);
    const every = v['rotate-every'];
    const object = buildObject(
      {
        kind: 'VirtualKey',
        name: ctx.args[0]!,
        namespace,
        labels: parseLabels(v.labels),
        spec: {
          user: v.user,
          models,
          limits: { maxBudget: v.budget, budgetDuration: v['budget-duration'] },
          duration: v.duration,
          rotation: every === undefined ? undefined : { every },
        },
      },
      {
        user: '--user',
        models: '--models',
        'limits.maxBudget': '--budget',
        'limits.budgetDuration': '--budget-duration',
        duration: '--duration',
        rotation: '--rotate-every',
      },
    );
    if (ctx.global.dryRun !== 'client' && models?.length) {
      await checkModels(ctx, namespace, models);
    }
    const machine = ctx.global.output !== 'table' && ctx.global.output !== 'wide';
    // With --wait, -o json|yaml|name prints the key as it is once Ready, not as created.
    let key = (ctx.values.wait && machine && ctx.global.dryRun === 'none'
      ? await ctx.resources().create(object, 'none')
      : await createAndReport(ctx, object)) as unknown as VirtualKey;
    if (ctx.global.dryRun !== 'none') return;
    const name = key.metadata.name!;
    if (ctx.values.wait) {
      const outcome = await waitFor<VirtualKey>(ctx, {
        what: `VirtualKey ${namespace}/${name} to be Ready`,
        read: () => ctx.resources().find<VirtualKey>('VirtualKey', name, namespace),
        done: isReady,
        timeoutMs,
      });
      if (!outcome.done) {
        const c = outcome.condition;
        const step = c ? nextStep(c.reason, namespace) : undefined;
        throw new CliError(
          `VirtualKey ${namespace}/${name} is not Ready after ${shortDuration(timeoutMs)}: ` +
            (c
              ? `${c.reason}: ${c.message}${step ? `\nnext: ${step}` : ''}`
              : 'the operator has not reported on it; is it running? (kubectl llm status)'),
        );
      }
      key = outcome.object;
      ctx.io.err(`VirtualKey ${namespace}/${name} is Ready\n`);
      if (machine) reportWrite(ctx, key as unknown as AnyObject, 'created');
    }
    if (machine) return;
    const values =
      ctx.values['show-key'] && isReady(key) ? await secretValues(ctx, key) : undefined;
    if (ctx.values['show-key'] && !isReady(key)) {
      ctx.io.err(
        '--show-key: the key is not Ready yet, so its Secret may not hold it; use --wait\n',
      );
    }
    ctx.io.out(`\n${keyUsage(key, values)}`);
  },
};
