import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';

/**
 * Hosts that share nothing but a network, on one machine: one network namespace per host, each with a
 * veth pair into a bridge the test makes, addresses in a private /24 of its own. The namespaces have
 * no default route, so their processes reach only each other and the bridge's address (where the test
 * itself runs): no traffic leaves the machine or reaches anything the test did not make.
 */
export interface Host {
  name: string;
  /** The network namespace's name. */
  ns: string;
  ip: string;
  /** Starts a process inside this host (its network namespace). */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** SIGKILLs every process in the host, as if it died; resolves with how many there were. */
  kill(): number;
}

export interface Network {
  /** The bridge's address: the test runner's own, as seen from the hosts. */
  gatewayIp: string;
  hosts: Record<string, Host>;
  /** Adds a host later (a replacement started after another died). */
  addHost(name: string): Host;
  /** Kills what runs in the hosts, removes the namespaces and the bridge. Safe to call twice. */
  remove(): void;
}

const PREFIX = 'tih'; // every namespace and link of these tests starts with it

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Fails with what to do when the tests cannot make namespaces (they need root). */
export function assertCanMakeHosts(): void {
  if (process.getuid?.() !== 0)
    throw new Error(
      'npm run test:hosts makes network namespaces and veth pairs (`ip netns`), which needs root. ' +
        'Run it as root (CI does), e.g. `sudo npm run test:hosts`.',
    );
  try {
    ip('netns', 'list');
  } catch (err) {
    throw new Error(`\`ip netns\` does not work here (install iproute2): ${(err as Error).message}`);
  }
}

function pidsIn(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killPids(pids: number[]): number {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return pids.length;
}

/** Removes what an earlier run left behind (a test runner killed before its cleanup). */
export function removeLeftovers(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0];
    if (!ns?.startsWith(`${PREFIX}-`)) continue;
    killPids(pidsIn(ns));
    ip('netns', 'del', ns);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = line.split(': ')[1]?.split('@')[0];
    if (name?.startsWith(PREFIX)) ip('link', 'del', name);
  }
}

export function createNetwork(hostNames: string[]): Network {
  const id = randomInt(0x1000, 0xffff).toString(16);
  const subnet = `10.${randomInt(100, 250)}.${randomInt(1, 250)}`;
  const bridge = `${PREFIX}${id}br`;
  const hosts: Record<string, Host> = {};
  const links = [bridge];
  let next = 10;
  let removed = false;
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');

  const addHost = (name: string): Host => {
    const n = next++;
    const ns = `${PREFIX}-${id}-${name}`;
    const [outer, inner] = [`${PREFIX}${id}o${n}`, `${PREFIX}${id}i${n}`];
    const address = `${subnet}.${n}`;
    ip('netns', 'add', ns);
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    links.push(outer);
    ip('link', 'set', inner, 'netns', ns);
    ip('link', 'set', outer, 'master', bridge, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', inner);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    const host: Host = {
      name,
      ns,
      ip: address,
      spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', ns, command, ...args], options),
      kill: () => killPids(pidsIn(ns)),
    };
    hosts[name] = host;
    return host;
  };

  const remove = () => {
    if (removed) return;
    removed = true;
    for (const host of Object.values(hosts)) {
      host.kill();
      try {
        ip('netns', 'del', host.ns);
      } catch {
        // already gone
      }
    }
    // A namespace's end of its pair goes with it, but the kernel may take a moment: delete ours now.
    for (const link of links) {
      try {
        ip('link', 'del', link);
      } catch {
        // already gone
      }
    }
  };
  // Whatever happens to the test runner, the namespaces go with it.
  process.once('exit', remove);
  try {
    for (const name of hostNames) addHost(name);
  } catch (err) {
    remove();
    throw err;
  }
  return { gatewayIp: `${subnet}.1`, hosts, addHost, remove };
}
