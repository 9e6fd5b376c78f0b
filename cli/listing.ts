// What the four listing commands share: read the objects (one namespace, or all with -A),
// then print them as a table or in the asked format.
import type { CommandContext } from './command.ts';
import type { AnyObject, KindName } from './kube/resources.ts';
import { kindOf } from './kube/resources.ts';
import { printObjects } from './output/print.ts';
import { renderTable, type Column } from './output/table.ts';
import { namespaceColumn } from './output/columns.ts';
import type { Flags } from './command.ts';

export const selectorFlag: Flags = {
  selector: {
    type: 'string',
    short: 'l',
    value: 'SELECTOR',
    help: 'Only objects with these labels, e.g. app=chatbot.',
  },
};

export async function listObjects<T extends AnyObject>(
  ctx: CommandContext,
  kind: KindName,
  columns: Column<T>[],
): Promise<void> {
  const namespaced = kindOf(kind).scope === 'Namespaced';
  const namespace =
    namespaced && !ctx.global.allNamespaces ? ctx.connection().namespace : undefined;
  const items = await ctx
    .resources()
    .list<T>(kind, namespace, ctx.values.selector as string | undefined);
  items.sort((a, b) =>
    `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
      `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
    ),
  );
  const printed = printObjects(items, ctx.global.output);
  if (printed !== undefined) {
    ctx.io.out(printed);
    return;
  }
  if (items.length === 0) {
    ctx.io.err(
      namespace
        ? `No ${kindOf(kind).plural} in namespace ${namespace}.\n`
        : `No ${kindOf(kind).plural}.\n`,
    );
    return;
  }
  const all = namespaced && ctx.global.allNamespaces ? [namespaceColumn<T>(), ...columns] : columns;
  ctx.io.out(renderTable(all, items, ctx.global.output === 'wide'));
}
