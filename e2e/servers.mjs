// The three servers for `E2E_BACKENDS=servers`: a throwaway PostgreSQL (one database per region),
// nats-server with JetStream and SeaweedFS's S3, all on loopback under one temporary directory,
// and the `--config` file that puts every region of the product on them, with the public feed
// between regions ([public]) and an [edge] table naming `nodes` and each region's nodes.
// `stop()` ends them all.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, realpathSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import net from 'node:net';
import { freePort } from './ports.mjs';

const sleep = ms => new Promise(ok => setTimeout(ok, ms));
const onPath = name => (process.env.PATH || '').split(':').map(d => join(d, name)).find(p => existsSync(p));

function pgBin() {
  const initdb = onPath('initdb');
  if (initdb) return dirname(realpathSync(initdb));
  const root = '/usr/lib/postgresql';
  const v = existsSync(root) ? readdirSync(root).sort().pop() : null;
  if (!v) throw new Error('no PostgreSQL server binaries: install Debian\'s postgresql');
  return join(root, v, 'bin');
}

async function listening(port, what, child) {
  for (let i = 0; i < 600; i++) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited`);
    const up = await new Promise(ok => { const s = net.connect(port, '127.0.0.1', () => { s.end(); ok(true); }); s.on('error', () => ok(false)); });
    if (up) return;
    await sleep(100);
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export async function startServers(dir, regions, nodes = [], regionNodes = {}) {
  mkdirSync(dir, { recursive: true });
  const root = process.getuid && process.getuid() === 0;
  const asPg = (cmd, args) => root ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });
  const bin = pgBin();
  const pgDir = join(dir, 'pg');
  mkdirSync(pgDir, { recursive: true });
  if (root) {
    // PostgreSQL refuses to run as root: its directory goes to the postgres user, and the
    // temporary directories above it must let that user through.
    for (let d = pgDir; d !== dirname(d) && d.startsWith(dirname(dirname(dir))); d = dirname(d)) chmodSync(d, 0o755);
    execFileSync('chown', ['-R', 'postgres', pgDir]);
  }
  const pgPort = await freePort();
  asPg(join(bin, 'initdb'), ['-D', join(pgDir, 'data'), '-U', 'foryou', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  asPg(join(bin, 'pg_ctl'), ['-D', join(pgDir, 'data'), '-l', join(pgDir, 'log'), '-o', `-p ${pgPort} -k ${pgDir} -c listen_addresses=127.0.0.1`, '-w', 'start']);
  for (const r of regions) asPg(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'foryou', `foryou_${r}`]);

  const natsPort = await freePort();
  const nats = spawn(process.env.FORYOU_NATS_SERVER || 'nats-server', ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', join(dir, 'nats')], { stdio: 'ignore' });
  const s3Port = await freePort();
  const weedArgs = ['mini', `-dir=${join(dir, 'weed')}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-s3.port=${s3Port}`, '-admin.ui=false'];
  for (const f of ['master.port', 'master.port.grpc', 'volume.port', 'volume.port.grpc', 'filer.port', 'filer.port.grpc', 's3.port.grpc', 's3.port.iceberg', 's3.port.lance', 'webdav.port', 'admin.port', 'admin.port.grpc']) weedArgs.push(`-${f}=${await freePort()}`);
  mkdirSync(join(dir, 'weed'), { recursive: true });
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'e2ekey', AWS_SECRET_ACCESS_KEY: 'e2esecret0123456789' };
  const weed = spawn(process.env.FORYOU_WEED || 'weed', weedArgs, { stdio: 'ignore', env });
  await listening(natsPort, 'nats-server', nats);
  await listening(s3Port, 'SeaweedFS S3', weed);

  const config = join(dir, 'foryou.toml');
  writeFileSync(config, regions.map(r => `[regions.${r}]\nstore = "postgres://foryou@127.0.0.1:${pgPort}/foryou_${r}"\nevents = "nats://127.0.0.1:${natsPort}"\nmedia = "s3://foryou-e2e?endpoint=http://127.0.0.1:${s3Port}&prefix=${r}/"\n`).join('\n')
    + `\n[public]\nevents = "nats://127.0.0.1:${natsPort}"\n`
    + `\n[edge]\nnodes = [${nodes.map(n => JSON.stringify(n)).join(', ')}]\n`
    + `[edge.regions]\n${Object.entries(regionNodes).map(([r, ns]) => `${r} = [${ns.map(n => JSON.stringify(n)).join(', ')}]`).join('\n')}\n`);
  const stop = () => {
    nats.kill('SIGKILL');
    weed.kill('SIGKILL');
    try { asPg(join(bin, 'pg_ctl'), ['-D', join(pgDir, 'data'), '-m', 'immediate', '-w', 'stop']); } catch (_) { /* already down */ }
  };
  return { config, env, stop };
}
