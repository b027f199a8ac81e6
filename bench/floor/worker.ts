/** A worker of the orchestration floor: `workflows` (parent, children, their local activities) or `remote`. */
import { createRequire } from 'node:module';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';

const require = createRequire(import.meta.url);
const [kind, address] = process.argv.slice(2);
const connection = await NativeConnection.connect({ address });
const activities = {
  noop: async (a: { n: number; heartbeat?: boolean }) => {
    if (a.heartbeat) Context.current().heartbeat();
    return a.n;
  },
};
const worker = await Worker.create(
  kind === 'workflows'
    ? { connection, taskQueue: 'floor', workflowsPath: require.resolve('./workflows.ts'), activities }
    : { connection, taskQueue: 'floor-remote', activities },
);
console.log('worker started');
await worker.run();
