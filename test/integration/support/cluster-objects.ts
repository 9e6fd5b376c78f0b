// Create / read / merge-patch / delete of our cluster-scoped kinds (Team, User) in the shared
// test API server, labelled with the test run's labels so each suite's operator sees only
// its own objects. The suites' Objects classes build on it.
import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../../../crds/api/index.ts';

export class ClusterObjects<T> {
  readonly #api: CustomObjectsApi;
  readonly #kind: string;
  readonly #plural: string;
  readonly #labels: Record<string, string>;

  constructor(api: CustomObjectsApi, kind: string, plural: string, labels: Record<string, string>) {
    this.#api = api;
    this.#kind = kind;
    this.#plural = plural;
    this.#labels = labels;
  }

  async create(
    name: string,
    spec: Record<string, unknown>,
    metadata: Record<string, unknown> = {},
  ): Promise<T> {
    const body = {
      apiVersion: API_VERSION,
      kind: this.#kind,
      metadata: { name, labels: this.#labels, ...metadata },
      spec,
    };
    return (await this.#api.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: this.#plural,
      body,
    })) as T;
  }

  /** The object, or undefined when it does not exist. */
  async get(name: string): Promise<T | undefined> {
    try {
      return (await this.#api.getClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: this.#plural,
        name,
      })) as T;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** A JSON merge patch (null deletes a field). */
  async patch(name: string, patch: Record<string, unknown>): Promise<T> {
    return (await this.#api.patchClusterCustomObject(
      { group: GROUP, version: VERSION, plural: this.#plural, name, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as T;
  }

  async delete(name: string): Promise<void> {
    await this.#api.deleteClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: this.#plural,
      name,
    });
  }
}
