// The Secrets the VirtualKey controller writes, as an informer target. VirtualKeys
// themselves are a kind of our API (../shared/kinds.ts); VIRTUAL_KEY_TARGET is re-exported
// here for test/bench/operator-keys.ts, which imports it from this file.
import type { InformerTarget } from '../../runtime/informer-factory.ts';
import { MANAGED_BY_LABEL, VIRTUAL_KEY_LABEL } from './key-secret.ts';
import { keySecretMetadata } from './watches.ts';

export { VIRTUAL_KEY_TARGET } from '../shared/kinds.ts';

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
