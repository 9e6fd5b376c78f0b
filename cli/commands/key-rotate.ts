// kubectl llm key rotate NAME: ask the operator to rotate a key now (spec.rotation.requestedAt).
// The operator mints a new key into the Secret and keeps the old one working for the key's
// rotation.gracePeriod (1h by default), as a scheduled rotation does; it rotates once per
// request, because the new key is minted after the requested time (status.lastRotatedAt).
import type { VirtualKey } from '../../crds/api/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { CliError } from '../errors.ts';
import type { AnyObject } from '../kube/resources.ts';
import { isReady } from '../output/conditions.ts';
import { shortDuration } from '../output/time.ts';
import { waitFor } from '../wait.ts';
import { reportWrite } from '../write.ts';
import { parseTimeout } from './key-create.ts';

/**
 * Now, in whole seconds as status records times, or the second after the current key's mint
 * when that is not earlier (a key minted this second, or this machine's clock behind the
 * operator's): a request at or before lastRotatedAt counts as already honoured.
 */
export function rotationRequestTime(lastRotatedAt: string | undefined, now = Date.now()): string {
  const second = Math.floor(now / 1000) * 1000;
  const minted = lastRotatedAt ? Date.parse(lastRotatedAt) : NaN;
  const at =
    Number.isFinite(minted) && minted >= second ? Math.floor(minted / 1000) * 1000 + 1000 : second;
  return new Date(at).toISOString().replace(/\.000Z$/, 'Z');
}

/** The key rotated for the request: minted at or after it, and Ready. */
const rotatedFor = (requestedAt: string) => (key: VirtualKey) =>
  key.status?.lastRotatedAt !== undefined &&
  Date.parse(key.status.lastRotatedAt) >= Date.parse(requestedAt) &&
  isReady(key);

async function rotate(ctx: CommandContext): Promise<void> {
  const name = ctx.args[0]!;
  const namespace = ctx.connection().namespace;
  const key = await ctx.resources().get<VirtualKey>('VirtualKey', name, namespace);
  const requestedAt = rotationRequestTime(key.status?.lastRotatedAt);
  const rotation = { ...key.spec.rotation, requestedAt };
  if (ctx.global.dryRun === 'client') {
    reportWrite(
      ctx,
      { ...key, spec: { ...key.spec, rotation } } as AnyObject,
      'rotation requested',
    );
    return;
  }
  const machine = ctx.global.output !== 'table' && ctx.global.output !== 'wide';
  const patched = await ctx
    .resources()
    .patch<VirtualKey>(
      'VirtualKey',
      name,
      namespace,
      { spec: { rotation: { requestedAt } } },
      ctx.global.dryRun,
    );
  // With --wait, -o json|yaml|name prints the key once rotated, not as patched.
  if (!(ctx.values.wait && machine && ctx.global.dryRun === 'none'))
    reportWrite(ctx, patched as unknown as AnyObject, 'rotation requested');
  if (ctx.global.dryRun !== 'none' || !ctx.values.wait) return;

  const previous = key.status?.previousKey;
  if (previous && Date.parse(previous.validUntil) > Date.now())
    ctx.io.err(
      `a previous key is still in its grace period until ${previous.validUntil}: at most two keys work at once, so the rotation happens then\n`,
    );
  const timeoutMs = parseTimeout(ctx.values.timeout as string | undefined, 120_000);
  const outcome = await waitFor<VirtualKey>(ctx, {
    what: `VirtualKey ${namespace}/${name} to rotate`,
    read: () => ctx.resources().find<VirtualKey>('VirtualKey', name, namespace),
    done: rotatedFor(requestedAt),
    timeoutMs,
  });
  if (!outcome.done) {
    const c = outcome.condition;
    throw new CliError(
      `VirtualKey ${namespace}/${name} has not rotated after ${shortDuration(timeoutMs)}` +
        (c ? `: ${c.reason}: ${c.message}` : '; is the operator running? (kubectl llm status)'),
    );
  }
  const until = outcome.object.status?.previousKey?.validUntil;
  ctx.io.err(
    `VirtualKey ${namespace}/${name} rotated: the new key is in Secret ${outcome.object.status?.secretName ?? name}` +
      (until ? `; the previous key works until ${until}\n` : '\n'),
  );
  if (machine) reportWrite(ctx, outcome.object as unknown as AnyObject, 'rotated');
}

export const keyRotate: Command = {
  name: 'key rotate',
  summary: 'Rotate a VirtualKey now; the old key keeps working for its grace period.',
  usage: 'NAME [--wait] [--timeout D] [flags]',
  description: `
Sets spec.rotation.requestedAt to now. The operator writes a new key to the Secret and keeps
the previous one working for spec.rotation.gracePeriod (1h by default), then deletes it. While
a previous key is still in its grace period the rotation waits for its end (at most two keys
work at once). With --wait the command exits once the new key is in the Secret and Ready, or 1
after --timeout.`,
  examples: [
    'kubectl llm key rotate chatbot -n ml-research --wait',
    'kubectl llm key rotate chatbot -n ml-research --dry-run=client -o yaml',
  ],
  flags: {
    wait: { type: 'boolean', help: 'Wait until the new key is in the Secret and Ready.' },
    timeout: {
      type: 'string',
      value: 'DURATION',
      help: 'How long --wait waits (default 2m).',
    },
  },
  uses: { dryRun: true },
  args: { min: 1, max: 1 },
  run: rotate,
};
