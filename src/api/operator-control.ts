import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
// The same functions as `tour-import pause|resume`: one owner of pause state, whichever door is used.
import { UnknownOperatorError } from '../operations/operators.js';
import { pauseOperator, resumeOperator } from '../operations/pause.js';
import type { ApiDeps } from './deps.js';

const PauseBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });
const ResumeBody = z.strictObject({ applyRemovals: z.boolean().optional() });

/**
 * `POST /operators/:operatorId/pause` and `/resume`: move the operator's row, its running import and
 * its schedules together, as the CLI does. Authenticated like every admin route; JSON bodies only, so
 * a page elsewhere cannot post a form here with a browser's remembered basic-auth credentials.
 */
export function registerOperatorControl(app: FastifyInstance, deps: ApiDeps) {
  const control = { pool: deps.pool, client: deps.client, sinks: async () => deps.sinks };
  const route = <T>(
    action: string,
    schema: z.ZodType<T>,
    run: (operatorId: string, body: T) => Promise<unknown>,
  ) =>
    app.post<{ Params: { operatorId: string } }>(`/operators/:operatorId/${action}`, async (req, reply) => {
      if (!req.headers['content-type']?.startsWith('application/json'))
        return reply
          .code(415)
          .send({ error: 'send a JSON body (content-type: application/json), {} at least' });
      const body = schema.safeParse(req.body);
      if (!body.success)
        return reply.code(400).send({ error: body.error.issues.map((i) => i.message).join('; ') });
      try {
        return await run(req.params.operatorId, body.data);
      } catch (err) {
        if (err instanceof UnknownOperatorError) return reply.code(404).send({ error: err.message });
        throw err;
      }
    });
  route('pause', PauseBody, (id, b) => pauseOperator(control, id, b.reason));
  route('resume', ResumeBody, (id, b) => resumeOperator(control, id, { applyRemovals: b.applyRemovals }));
}
