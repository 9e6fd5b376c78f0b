// The kinds the VirtualKey controller reads and writes beyond the shared ones
// (../shared/kinds.ts): VirtualKeys themselves and the Secrets their keys live in.
import { API_VERSION } from '../../../../crds/api/index.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { InformerTarget } from '../../runtime/informer-factory.ts';
import { MANAGED_BY_LABEL, VIRTUAL_KEY_LABEL } from './key-secret.ts';
import { keySecretMetadata } from './watches.ts';

export const VIRTUAL_KEY_TARGET: InformerTarget = { apiVersion: API_VERSION, kind: 'VirtualKey' };
export const VIRTUAL_KEY_RESOURCE: ResourceType = {
  ...VIRTUAL_KEY_TARGET,
  plural: 'virtualkeys',
  namespaced: true,
};
/**
 * The Secrets we write carry both labels (key-secret.ts); selecting on them keeps every other
 * Secret out of the cache. A tenant can copy the labels, so the cache holds metadata only
 * (reconciles read Secrets live), cut down to identity and owner (watches.ts).
 */
export const KEY_SECRET_TARGET: InformerTarget = {
  apiVersion: 'v1',
  kind: 'Secret',
  labelSelector: `${MANAGED_BY_LABEL}=llm-tenancy,${VIRTUAL_KEY_LABEL}`,
  metadataOnly: true,
  transform: keySecretMetadata,
};
