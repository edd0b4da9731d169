/**
 * Counts what the server asks of its database, through a Kysely plugin on the server's own connection: the
 * statements, and the rows each table's SELECTs return. Complexity tests compare these counts as work grows,
 * which, unlike timings, do not depend on how busy the machine is.
 */
import {
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  TableNode,
  type UnknownRow,
} from "kysely";
import type { GoferDb } from "../../src/storage/database.ts";

export class StatementCounter implements KyselyPlugin {
  statements = 0;
  /** Rows returned by SELECTs, by the table they read first. */
  readonly rowsRead = new Map<string, number>();
  readonly #tables = new WeakMap<object, string>();
  #counting = false;

  /** The function to hand `startTestServer`'s `wrapDatabase`. */
  readonly wrap = (db: GoferDb): GoferDb => db.withPlugin(this);

  /** Starts counting from zero. */
  start(): void {
    this.statements = 0;
    this.rowsRead.clear();
    this.#counting = true;
  }

  stop(): void {
    this.#counting = false;
  }

  rowsOf(table: string): number {
    return this.rowsRead.get(table) ?? 0;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (!this.#counting) return args.node;
    this.statements += 1;
    if (args.node.kind === "SelectQueryNode") {
      const from = args.node.from?.froms[0];
      if (from && TableNode.is(from)) this.#tables.set(args.queryId, from.table.identifier.name);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const table = this.#tables.get(args.queryId);
    if (table !== undefined && this.#counting)
      this.rowsRead.set(table, this.rowsOf(table) + args.result.rows.length);
    return args.result;
  }
}
