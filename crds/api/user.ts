// User (cluster-scoped): a person. Created by admins or by the gateway at first SSO login;
// becomes a LiteLLM user whose team memberships follow the Teams.
import { z } from 'zod';
import { type KindDefinition, readyColumns } from './kind.ts';
import {
  budgetStatus,
  cel,
  conditions,
  DeletionPolicy,
  limitsSchema,
  money,
  observedGeneration,
  setOf,
} from './meta.ts';

/** Platform roles; README documents how each maps onto a LiteLLM user_role. */
export const UserRole = z
  .enum(['admin', 'manager', 'user', 'viewer'])
  .describe(
    'admin: runs the platform; manager: manages teams; user: uses models; viewer: reads only.',
  );
export type UserRole = z.infer<typeof UserRole>;

/** Deliberately simple and RE2-safe: the IdP has already verified the address. */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export const Identity = z
  .object({
    issuer: z
      .string()
      .max(512)
      .regex(/^https?:\/\/\S+$/)
      .describe('OIDC issuer URL (or the OpenShift OAuth server) that vouches for this person.'),
    subject: z.string().min(1).max(255).describe('The `sub` claim at that issuer.'),
  })
  .describe('Who this User is at the identity provider; set at first login and never changed.');

export const UserSpec = cel(
  z
    .object({
      email: z.string().max(320).regex(EMAIL).optional().describe('E-mail address.'),
      displayName: z.string().max(256).optional().describe('Human-readable name.'),
      role: UserRole.default('user'),
      identity: Identity.optional(),
      groups: setOf(
        z.string().min(1).max(253).regex(/^\S+$/),
        256,
        'Groups the identity provider reported at the last login; Teams naming a group include its users.',
      ).optional(),
      limits: limitsSchema('Limits for this person across all teams.').optional(),
      deletionPolicy: DeletionPolicy,
    })
    .describe('Desired state of the User.'),
  {
    rule: '!has(oldSelf.identity) || (has(self.identity) && self.identity == oldSelf.identity)',
    message:
      'identity cannot change once set: it is how a login finds this User; create a new User instead',
    fieldPath: '.identity',
  },
);
export type UserSpec = z.infer<typeof UserSpec>;

export const UserStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: conditions().optional(),
    userId: z.string().max(256).optional().describe('The LiteLLM user_id this User is pinned to.'),
    teams: setOf(z.string().max(63), 1000, 'Teams this User is a member of.').optional(),
    spend: money('Spend in the current budget period, in').optional(),
    budget: budgetStatus().optional(),
    lastLoginAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Last SSO login through the gateway.'),
  })
  .describe('Observed state of the User.');
export type UserStatus = z.infer<typeof UserStatus>;

export const userKind: KindDefinition<typeof UserSpec, typeof UserStatus> = {
  kind: 'User',
  plural: 'users',
  singular: 'user',
  shortNames: ['llmuser'],
  scope: 'Cluster',
  description:
    'A User is a person on the model platform. Admins create them, or the gateway does at first SSO login. It becomes a user in LiteLLM.',
  spec: UserSpec,
  status: UserStatus,
  printerColumns: [
    { name: 'Email', type: 'string', jsonPath: '.spec.email' },
    { name: 'Role', type: 'string', jsonPath: '.spec.role' },
    { name: 'Teams', type: 'string', jsonPath: '.status.teams' },
    { name: 'Spend', type: 'string', jsonPath: '.status.spend', priority: 1 },
    { name: 'Budget', type: 'string', jsonPath: '.status.budget.maxBudget', priority: 1 },
    ...readyColumns,
  ],
};
