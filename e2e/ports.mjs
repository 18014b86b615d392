// Loopback ports for the servers a test starts. A port the OS hands out for `listen(0)` comes from
// the ephemeral range, the same range it takes source ports from for outgoing connections: in the
// seconds between choosing a port and a server binding it, a node's connection to PostgreSQL or
// NATS (or SeaweedFS talking to itself) may take it, and the server then fails to start. So ports
// are drawn below that range, checked by binding them, and never handed out twice.
import net from 'node:net';
import { readFileSync } from 'node:fs';

function ephemeralLow() {
  try { return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768; } catch (_) { return 32768; }
}
const high = Math.min(ephemeralLow(), 32768) - 1;
const low = Math.max(1024, high - 12000);
const given = new Set();

const bindable = port => new Promise(ok => {
  const s = net.createServer();
  s.once('error', () => ok(false));
  s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
});

/** A loopback port nothing listens on, outside the ephemeral range, not given before. */
export async function freePort() {
  for (let i = 0; i < 1000; i++) {
    const p = low + Math.floor(Math.random() * (high - low + 1));
    if (given.has(p)) continue;
    if (await bindable(p)) { given.add(p); return p; }
  }
  throw new Error(`no free loopback port in ${low}..${high}`);
}
