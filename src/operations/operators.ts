import { getOperator, listOperators, type OperatorRow } from '../db/operators.js';
import type { Pool } from '../db/pool.js';

/** An operator id that is not in PostgreSQL: the CLI exits with its usage code, the API answers 404. */
export class UnknownOperatorError extends Error {
  constructor(
    readonly operatorId: string,
    readonly known: string[],
  ) {
    const configured = known.length
      ? `configured: ${known.join(', ')}`
      : 'none configured; run `tour-import operators sync`';
    super(`unknown operator "${operatorId}" (${configured})`);
    this.name = 'UnknownOperatorError';
  }
}

/** The operator's row; an unknown id is an UnknownOperatorError naming the operators that do exist. */
export async function requireOperator(pool: Pool, id: string): Promise<OperatorRow> {
  const op = await getOperator(pool, id);
  if (op) return op;
  throw new UnknownOperatorError(
    id,
    (await listOperators(pool)).map((o) => o.id),
  );
}
