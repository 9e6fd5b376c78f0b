// kubectl llm status: is the platform working? CRDs served, the operator's leader, the gateway
// reachable, and Ready / not Ready per kind with the top reasons. Exits 1 when something
// checked is wrong, so it fits a script or a CI smoke test.
import type { Command } from '../command.ts';
import { checkCrds, type CrdReport } from '../health/crds.ts';
import { countKind, type KindCount } from '../health/counts.ts';
import { checkGateway, type GatewayReport } from '../health/gateway.ts';
import { checkOperator, type OperatorReport } from '../health/operator.ts';
import { locateGateway } from '../gateway/locate.ts';
import { kinds } from '../../crds/api/index.ts';
import type { KindName } from '../kube/resources.ts';
import { serialize } from '../output/print.ts';
import { renderTable } from '../output/table.ts';

export interface StatusReport {
  crds: CrdReport;
  operator?: OperatorReport;
  gateway?: GatewayReport;
  objects: KindCount[];
}

export const status: Command = {
  name: 'status',
  summary: 'Check the platform: CRDs, operator leader, gateway, and Ready counts per kind.',
  usage: '[--gateway URL] [--operator-lease NAMESPACE/NAME] [flags]',
  description: `
The gateway is checked when --gateway (or $KUBECTL_LLM_GATEWAY, or $GATEWAY_URL as the dev
stack's .dev/env sets it, or the kubeconfig context's llmtenancy.dev/gateway extension) gives its address: the public one (…/v1) or the management port
(…:8081, whose /readyz says whether it has the routing config). Exit code 1 when the CRDs are
missing, the operator's Lease is stale, or the gateway does not answer.`,
  examples: [
    'kubectl llm status',
    'kubectl llm status --gateway https://llm.apps.example.com/v1',
    'kubectl llm status --operator-lease llm-tenancy/llm-tenancy-operator -o json',
  ],
  flags: {
    gateway: { type: 'string', value: 'URL', help: "The gateway's address to check." },
    'operator-lease': {
      type: 'string',
      value: 'NAMESPACE/NAME',
      help: "The operator's leader-election Lease (default: searched for).",
    },
  },
  async run(ctx) {
    const resources = ctx.resources();
    const { namespace } = ctx.connection();
    const crds = await checkCrds(resources.rest);
    const gatewayUrl = locateGateway(
      ctx.values.gateway as string | undefined,
      ctx.global,
      ctx.io.env,
    )?.url;
    const leaseRef =
      (ctx.values['operator-lease'] as string | undefined) ?? ctx.io.env.KUBECTL_LLM_OPERATOR_LEASE;
    const [operator, gateway, objects] = await Promise.all([
      checkOperator(resources.rest, leaseRef),
      gatewayUrl ? checkGateway(gatewayUrl) : Promise.resolve(undefined),
      crds.ok
        ? Promise.all(kinds.map((k) => countKind(resources, k.kind as KindName, namespace)))
        : Promise.resolve([]),
    ]);
    const report: StatusReport = { crds, operator, gateway, objects };
    const ok = crds.ok && operator.ok && (gateway?.ok ?? true);
    if (ctx.global.output === 'json' || ctx.global.output === 'yaml') {
      ctx.io.out(serialize({ ok, ...report }, ctx.global.output));
      return ok ? 0 : 1;
    }
    const mark = (good: boolean) => (good ? 'ok  ' : 'FAIL');
    let text = `${mark(crds.ok)}  CRDs      ${crds.message}\n`;
    text += `${operator.checked || !operator.ok ? mark(operator.ok) : '-   '}  Operator  ${operator.message}\n`;
    text += gateway
      ? `${mark(gateway.ok)}  Gateway   ${gateway.message}\n`
      : '-     Gateway   not checked: pass --gateway URL (its public …/v1 address or management port)\n';
    if (objects.length > 0) {
      text += `\n${renderTable(
        [
          { header: 'Kind', value: (c: KindCount) => c.kind },
          { header: 'Ready', value: (c) => (c.error ? '?' : String(c.ready)) },
          { header: 'Not Ready', value: (c) => (c.error ? '?' : String(c.notReady)) },
          {
            header: 'Top Reasons',
            value: (c) => c.error ?? c.topReasons.map((r) => `${r.reason} (${r.count})`).join(', '),
          },
          { header: 'Scope', value: (c) => c.scope },
        ],
        objects,
        false,
      )}`;
    }
    ctx.io.out(text);
    return ok ? 0 : 1;
  },
};
