// A fleet repository over real TLS: the git http-backend behind node's https
// server on loopback (test/helpers/git-server.ts with `tls`), its certificate
// signed by a CA the `openssl` CLI makes for this run (test/helpers/tls.ts).
// gitfleet runs as a child process of the built dist/cli.js, because node
// reads NODE_EXTRA_CA_CERTS only when it starts.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { roster, sh, TestFleet, usePrivateTmux } from '../helpers/fleet.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { makeCa, makeServerCert, type Cert } from '../helpers/tls.js';

usePrivateTmux();

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const TOKEN = 'tok-tls-8c2e6a4f1d9b3e75-secret';
let fleet: TestFleet;
let server: GitHttpServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
  fleet?.cleanup();
});

function setUp(): { ca: Cert; good: Cert; wrongName: Cert; otherCa: Cert } {
  fleet = new TestFleet();
  sh('git', ['--git-dir', fleet.bare, 'config', 'http.receivepack', 'true']);
  fleet.commit({
    'fleet.yaml': 'fleet: tls\n',
    'rosters/team.yaml': roster(fleet.socket, '  - name: alpha\n    runtime: stub\n'),
  });
  const dir = path.join(fleet.dir, 'tls');
  mkdirSync(dir);
  const ca = makeCa(dir);
  return {
    ca,
    good: makeServerCert(dir, ca, 'server', ['localhost', '127.0.0.1']),
    wrongName: makeServerCert(dir, ca, 'wrong-name', ['forge.example']),
    otherCa: makeCa(dir, 'other-ca'),
  };
}

async function serve(cert: Cert): Promise<GitHttpServer> {
  await server?.stop();
  server = new GitHttpServer(fleet.dir, TOKEN, cert);
  await server.start();
  return server;
}

/** `gitfleet apply` in a new node process; `ca` becomes its NODE_EXTRA_CA_CERTS (or `trust` says how to trust). */
function apply(url: string, ca: string | null, trust: NodeJS.ProcessEnv = {}, command = 'apply') {
  const env: NodeJS.ProcessEnv = { ...process.env, GITFLEET_GIT_TOKEN: TOKEN, GITFLEET_GIT_ATTEMPTS: '3' };
  // Only what the test gives decides what node trusts.
  for (const k of ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) delete env[k];
  if (ca) env.NODE_EXTRA_CA_CERTS = ca;
  Object.assign(env, trust);
  const argv = [CLI, command, '--repo', url, '--state-dir', fleet.stateDir, '--host', fleet.host];
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, out })),
  );
}

/** Refused before any request: one connection (not retried), no agent, no status on the remote. */
function expectNothingDone(r: { code: number | null; out: string }, s: GitHttpServer): void {
  expect(r.code).toBe(1);
  expect(s.connections).toBe(1);
  expect(s.counts).toEqual({ list: 0, upload: 0, 'receive-list': 0, receive: 0 });
  expect(fleet.panes().size).toBe(0);
  expect(fleet.headOf('gitfleet-status')).toBeNull();
  expect(r.out).not.toContain(TOKEN);
  expect(r.out).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
}

describe('remote repository over https', { timeout: 120_000 }, () => {
  it('with the private CA trusted (NODE_EXTRA_CA_CERTS): converges and pushes its status', async () => {
    const { ca, good } = setUp();
    for (const host of ['127.0.0.1', 'localhost']) {
      const s = await serve(good);
      const r = await apply(s.url('fleet.git', host), ca.cert);
      expect(r.out).not.toContain(TOKEN);
      expect(r.code, r.out).toBe(0);
      // The status, then the liveness ref (README, Stale hosts): the second host name finds both done already.
      expect(s.counts.receive).toBe(host === '127.0.0.1' ? 2 : 0);
    }
    // The other way the error message offers: the CA in the store OpenSSL reads (SSL_CERT_FILE stands in for
    // /etc/ssl/certs, which a test may not change), used by node with --use-openssl-ca.
    const s = await serve(good);
    const store = await apply(s.url('fleet.git'), null, {
      NODE_OPTIONS: '--use-openssl-ca',
      SSL_CERT_FILE: ca.cert,
    });
    expect(store.code, store.out).toBe(0);
    expect(s.counts.list).toBeGreaterThan(0);
    expect(fleet.panes().has('alpha')).toBe(true);
    // plan reads the same way (a private clone has no work tree with uncommitted files to note).
    const plan = await apply(s.url('fleet.git'), ca.cert, {}, 'plan');
    expect(plan.out).toContain('no changes: the fleet matches the desired state');
    expect(plan.code, plan.out).toBe(0);
    expect(JSON.parse(fleet.show(`gitfleet-status:status/${fleet.host}.json`))).toMatchObject({
      converged: true,
      desiredRevision: fleet.headOf('main'),
    });
  });

  it('a CA not trusted: a terminal error saying how to trust it; nothing applied, not retried', async () => {
    const { good, otherCa } = setUp();
    const s = await serve(good);
    for (const ca of [null, otherCa.cert]) {
      s.reset();
      const r = await apply(s.url('fleet.git'), ca);
      expect(r.out).toContain(`reading the branch heads of ${s.url('fleet.git')}: the server's TLS certificate`);
      expect(r.out).toContain('is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(r.out).toContain('NODE_EXTRA_CA_CERTS=/path/to/ca.pem');
      expect(r.out).toContain('system store');
      expect(r.out).not.toContain('attempts');
      expectNothingDone(r, s);
    }
  });

  it('a certificate for another name: refused likewise, naming the mismatch', async () => {
    const { ca, wrongName } = setUp();
    const s = await serve(wrongName);
    const r = await apply(s.url('fleet.git'), ca.cert);
    expect(r.out).toContain("the server's TLS certificate is not for this host name");
    expect(r.out).toContain('127.0.0.1');
    expect(r.out).toContain('use in --repo the name the certificate is for');
    expectNothingDone(r, s);
  });
});
