// GET /api/usage: spend and tokens per day and model of a Team, User or VirtualKey, with the
// object's budget; JSON, or CSV with format=csv. Registered by the self-service plugin, which
// resolves the caller and answers errors in OpenAI's shape. The person is authorized through
// Kubernetes first (usage-subject.ts); LiteLLM is read after, with the master key.
//
//   GET /api/usage?scope=team&name=ml-research&since=30d
//   GET /api/usage?scope=key&namespace=ml-research&name=chatbot&since=2026-11-01&format=csv
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KubeAsPerson } from '../kube/person-kube.ts';
import type { Principal } from '../signin/principal.ts';
import { fromKubeFailure } from '../self-service/self-service-errors.ts';
import { parseBody } from '../self-service/request-bodies.ts';
import type { LiteLLMActivity } from './litellm-activity.ts';
import { usageCsv, usageReport } from './usage-report.ts';
import { authorizedSubject, usageRange, UsageQuery } from './usage-subject.ts';

export interface UsageRouteOptions {
  activity: LiteLLMActivity;
  caller(request: FastifyRequest): { principal: Principal; kube: KubeAsPerson };
  now?: () => Date;
}

export function registerUsageRoute(app: FastifyInstance, options: UsageRouteOptions): void {
  const now = options.now ?? (() => new Date());
  app.get('/api/usage', async (request, reply) => {
    const { principal, kube } = options.caller(request);
    const query = parseBody(UsageQuery, request.query);
    const range = usageRange(query, now());
    const subject = await authorizedSubject(kube, principal, query).catch((err: unknown) => {
      throw fromKubeFailure(err, `read the ${query.scope} whose usage you asked for`);
    });
    const days = await Promise.all(subject.reads.map((read) => options.activity.days(read, range)));
    const report = usageReport(days.flat(), range);
    if (query.format === 'csv') {
      const file = [subject.scope, subject.namespace, subject.name, range.since, range.until]
        .filter(Boolean)
        .join('-');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="usage-${file}.csv"`)
        .send(usageCsv(report));
    }
    return {
      scope: subject.scope,
      name: subject.name,
      ...(subject.namespace !== undefined && { namespace: subject.namespace }),
      budget: subject.budget,
      ...report,
    };
  });
}
