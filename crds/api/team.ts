// Team (cluster-scoped): a tenant. Owns namespaces, has members, may use the models its
// admins allow, within its limits. Becomes a LiteLLM team.
import { z } from 'zod';
import { type KindDefinition, readyColumns } from './kind.ts';
import {
  budgetStatus,
  cel,
  conditions,
  DeletionPolicy,
  dnsLabel,
  limitsSchema,
  mapOf,
  modelName,
  money,
  objectName,
  observedGeneration,
  setOf,
} from './meta.ts';

export const TeamRole = z
  .enum(['admin', 'member'])
  .describe('admin manages the team; member uses it.');

export const TeamMember = z.object({
  user: objectName('Name of the User object.'),
  // No CRD default here on purpose: a default inside a list item makes every client-side
  // `kubectl apply` (and Argo CD's non-server-side diff) see the list as changed.
  role: TeamRole.optional().describe('admin manages the team; member (when omitted) uses it.'),
});

/** A group name as the IdP or OpenShift reports it (Keycloak paths like "/org/ml" too). */
const groupName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[^\s]+$/)
  .describe('Group name.');

/**
 * API areas that reach models without naming one in the request, so the gateway cannot check
 * the model where the request is made: refused unless the Team enables them (the gateway then
 * counts them in the key's and the team's limits).
 */
export const GatewayRouteGroup = z
  .enum([
    'files',
    'batches',
    'fineTuning',
    'vectorStores',
    'assistants',
    'realtime',
    'mcp',
    'storedResponses',
  ])
  .describe(
    'files: /v1/files. batches: /v1/batches (every line of the input file must name a model the key reaches). fineTuning: /v1/fine_tuning/jobs. vectorStores: /v1/vector_stores. assistants: /v1/assistants and /v1/threads. realtime: /v1/realtime/{client_secrets,calls,transcription_sessions}. mcp: /mcp. storedResponses: reading, cancelling and deleting /v1/responses/{id}.',
  );
export type GatewayRouteGroup = z.infer<typeof GatewayRouteGroup>;

export const TeamGateway = z
  .object({
    enabledRoutes: setOf(
      GatewayRouteGroup,
      16,
      "API areas the gateway serves to this team's keys beyond model calls. They reach models without naming one, so they are off unless listed here; once on they count in the key's and the team's limits (rpm, parallel requests).",
    ).optional(),
  })
  .describe("How the gateway serves this team's keys.");

export const TeamSpec = z
  .object({
    displayName: z.string().max(256).optional().describe('Human-readable name.'),
    namespaces: setOf(
      dnsLabel('Namespace name.'),
      64,
      'Namespaces this team owns. ModelSubscriptions and VirtualKeys in them belong to this team. A namespace belongs to at most one Team.',
    ).optional(),
    members: mapOf(
      TeamMember,
      ['user'],
      1000,
      'Users who are members, with their team role.',
    ).optional(),
    groups: setOf(
      groupName,
      64,
      'OpenShift Groups (or IdP groups claims) whose users are members, with role member.',
    ).optional(),
    membershipMode: z
      .enum(['Authoritative', 'Additive'])
      .default('Authoritative')
      .describe(
        'Authoritative: LiteLLM team members are exactly members plus group users. Additive: members added in LiteLLM by other means are kept.',
      ),
    models: cel(
      setOf(
        modelName('A model name, or "*" for every model.'),
        256,
        'Models this team may subscribe to (the approval list). "*" allows all.',
      ),
      {
        rule: "!('*' in self) || size(self) == 1",
        message: "'*' already allows every model; list it alone",
      },
    ).optional(),
    limits: limitsSchema('Limits for the whole team.').optional(),
    gateway: TeamGateway.optional(),
    deletionPolicy: DeletionPolicy,
  })
  .describe('Desired state of the Team.');
export type TeamSpec = z.infer<typeof TeamSpec>;

export const TeamMemberStatus = z.object({
  user: z
    .string()
    .max(253)
    .describe('User object name (or LiteLLM user id for members kept in Additive mode).'),
  role: TeamRole,
  source: z
    .string()
    .max(300)
    .describe(
      'Why this is a member: "spec", "group:<name>", or "litellm" (kept in Additive mode).',
    ),
});

export const GroupState = z
  .enum(['Found', 'Empty', 'Missing'])
  .describe(
    'Found: the group has users. Empty: it has none. Missing: it does not exist (any more).',
  );

export const TeamGroupStatus = z.object({
  name: z.string().max(253).describe('Group name from spec.groups.'),
  state: GroupState,
  users: z.int().min(0).optional().describe('Users the group has now.'),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'When the group became Empty or Missing; its former users stay members until the grace period after it ends.',
    ),
});

export const TeamStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: conditions().optional(),
    teamId: z.string().max(256).optional().describe('The LiteLLM team_id this Team is pinned to.'),
    members: mapOf(
      TeamMemberStatus,
      ['user'],
      10000,
      'Effective members and where each comes from.',
    ).optional(),
    memberCount: z.int().min(0).optional().describe('Number of effective members.'),
    groups: mapOf(
      TeamGroupStatus,
      ['name'],
      64,
      'What each group in spec.groups looks like now.',
    ).optional(),
    models: setOf(
      modelName('Model name.'),
      256,
      'Models the team can reach now: the union of its Active ModelSubscriptions.',
    ).optional(),
    spend: money('Spend in the current budget period, in').optional(),
    budget: budgetStatus().optional(),
  })
  .describe('Observed state of the Team.');
export type TeamStatus = z.infer<typeof TeamStatus>;

export const teamKind: KindDefinition<typeof TeamSpec, typeof TeamStatus> = {
  kind: 'Team',
  plural: 'teams',
  singular: 'team',
  shortNames: ['tm'],
  scope: 'Cluster',
  description:
    'A Team is a tenant of the model platform: it owns namespaces, has members, and may use the models its admins allow. It becomes a team in LiteLLM.',
  spec: TeamSpec,
  status: TeamStatus,
  objectRules: [
    {
      rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63",
      message:
        'Team names must be DNS labels (lower case letters, digits and "-", at most 63): they become LiteLLM team ids and label values',
    },
  ],
  printerColumns: [
    { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName', priority: 1 },
    { name: 'Namespaces', type: 'string', jsonPath: '.spec.namespaces' },
    { name: 'Members', type: 'integer', jsonPath: '.status.memberCount' },
    { name: 'Models', type: 'string', jsonPath: '.status.models', priority: 1 },
    { name: 'Spend', type: 'string', jsonPath: '.status.spend' },
    { name: 'Budget', type: 'string', jsonPath: '.status.budget.maxBudget' },
    ...readyColumns,
  ],
};
