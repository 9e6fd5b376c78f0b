// What the self-service API accepts, validated before anything reaches the cluster; the
// first problem is answered as a 400 naming the field.
import { z } from 'zod';
import {
  BUDGET_DURATION,
  dnsLabel,
  duration,
  modelName,
  money,
  objectName,
} from '../../../crds/api/meta.ts';
import { invalidField } from './self-service-errors.ts';

export const CreateKeyBody = z
  .object({
    namespace: dnsLabel('A namespace of one of your teams.'),
    name: objectName('The VirtualKey (and its Secret) name; generated when omitted.')
      .max(63)
      .optional(),
    models: z.array(modelName('A model name.')).max(256).default([]),
    budget: money('Spend allowed per budget period (or in total), in').optional(),
    budgetDuration: z
      .string()
      .max(8)
      .regex(BUDGET_DURATION, 'a count and a unit (s, m, h, d, w, mo), e.g. "30d"')
      .optional(),
    duration: duration('Key lifetime from creation.').optional(),
  })
  .strict();
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

export const KeyParams = z.object({
  namespace: dnsLabel('Namespace.'),
  name: objectName('VirtualKey name.'),
});

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const param = path.map(String).join('.');
  throw invalidField(param, issue.message);
}
