import { randomInt } from 'node:crypto';
import net from 'node:net';

/**
 * Every port the single-process server listens on. Besides the frontend, its services talk to each
 * other on gRPC and membership ports; two servers on one machine (or one beside a dev server) need
 * their own.
 */
export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** The server's own defaults, with the frontend where the project expects it. */
export function defaultPorts(frontend: number): ServerPorts {
  return {
    frontend,
    frontendHttp: 7243,
    frontendMembership: 6933,
    history: 7234,
    historyMembership: 6934,
    matching: 7235,
    matchingMembership: 6935,
    worker: 7239,
    workerMembership: 6939,
  };
}

/** True when nothing listens on 127.0.0.1:port (checked by binding it). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Free ports for every service (tests, and servers beside others); keep them for a restart. Below
 * 32768: the server stores its membership ports as PostgreSQL smallint, and the kernel's ephemeral
 * range (what port 0 gives) starts above that.
 */
export async function freePorts(): Promise<ServerPorts> {
  const keys: (keyof ServerPorts)[] = [
    'frontend',
    'frontendHttp',
    'frontendMembership',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
  ];
  const ports = {} as ServerPorts;
  const taken = new Set<number>();
  for (const key of keys) {
    let port = randomInt(10_000, 32_768);
    while (taken.has(port) || !(await isFree(port))) port = randomInt(10_000, 32_768);
    taken.add(port);
    ports[key] = port;
  }
  return ports;
}
