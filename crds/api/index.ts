// The llmtenancy.dev/v1alpha1 API: schemas, types and kind definitions, for the operator,
// the gateway and the CRD generator alike.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { z } from 'zod';
import { modelSubscriptionKind } from './model-subscription.ts';
import { teamKind } from './team.ts';
import { userKind } from './user.ts';
import { virtualKeyKind } from './virtual-key.ts';

export * from './meta.ts';
export * from './kind.ts';
export * from './team.ts';
export * from './user.ts';
export * from './model-subscription.ts';
export * from './virtual-key.ts';

/** Every kind of the API, in the order CRDs are generated and documented. */
export const kinds = [teamKind, userKind, modelSubscriptionKind, virtualKeyKind] as const;

/** A custom resource as read from the apiserver (defaults applied). */
export interface KubeObject<Spec, Status> {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: Spec;
  status?: Status;
}

type Out<T extends z.ZodType> = z.output<T>;
export type Team = KubeObject<Out<typeof teamKind.spec>, Out<typeof teamKind.status>>;
export type User = KubeObject<Out<typeof userKind.spec>, Out<typeof userKind.status>>;
export type ModelSubscription = KubeObject<
  Out<typeof modelSubscriptionKind.spec>,
  Out<typeof modelSubscriptionKind.status>
>;
export type VirtualKey = KubeObject<
  Out<typeof virtualKeyKind.spec>,
  Out<typeof virtualKeyKind.status>
>;
