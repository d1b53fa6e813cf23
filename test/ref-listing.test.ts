// The refs gitwatch reads without git (local files, the smart-HTTP advertisement) must be what
// `git ls-remote` says of the same remote, errors included, and whatever cannot be read exactly goes to git.

import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, connect, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { GitError } from '../src/errors.js';
import { GitClient, type Remote } from '../src/git/client.js';
import { localRefCache } from '../src/git/local-refs.js';
import type { RefListing, RefPatterns } from '../src/git/refs.js';
import { ProcessGroups } from '../src/runtime/processes.js';
import { TestRepo } from './helpers/git-fixtures.js';
import { privateCa, startHttpGit } from './helpers/http-git.js';
import { sshdMissing, startSshd } from './helpers/sshd.js';
import { ownTmpdir, tempDir, testEnv } from './helpers/temp.js';

interface Clients {
  readonly fast: GitClient;
  readonly git: GitClient;
  /** git processes the in-process client started. */
  readonly spawned: () => number;
  readonly fallbacks: string[];
}

function clients(t: TestContext, env: Record<string, string>): Clients {
  let spawned = 0;
  const counting = new ProcessGroups({ pid: process.pid, kill: (pid, signal) => process.kill(pid, signal) }, { add: () => spawned++, remove: () => undefined });
  const plain = new ProcessGroups({ pid: process.pid, kill: (pid, signal) => process.kill(pid, signal) });
  const fallbacks: string[] = [];
  const fast = new GitClient(env, counting, undefined, { onFallback: (origin, reason) => fallbacks.push(`${origin}: ${reason}`) });
  const git = new GitClient(env, plain, undefined, { inProcess: false });
  t.after(async () => {
    await fast.close();
    await git.close();
  });
  return { fast, git, spawned: () => spawned, fallbacks };
}

const call = { timeoutMs: 20_000 };

function plain(listing: RefListing): object {
  return { head: listing.head, refs: Object.fromEntries(listing.refs), peeled: Object.fromEntries(listing.peeled) };
}

/** Both clients' answers, or both errors' kinds: they must be the same. */
async function both(c: Clients, store: string, remote: Remote, patterns: RefPatterns): Promise<object> {
  const settle = (client: GitClient): Promise<object> =>
    client.listRefs(store, remote, patterns, call).then(plain, (error: unknown) => {
      if (error instanceof GitError) return { error: error.kind };
      throw error;
    });
  const [fast, git] = await Promise.all([settle(c.fast), settle(c.git)]);
  assert.deepEqual(fast, git, `patterns ${patterns.join(' ')}`);
  return fast;
}

async function heads(c: Clients, store: string, remote: Remote, branch: string | undefined): Promise<unknown> {
  const settle = (client: GitClient): Promise<unknown> =>
    client.lsRemote(store, remote, branch, call).then(
      (head) => head,
      (error: unknown) => {
        if (error instanceof GitError) return { error: error.kind, message: error.message };
        throw error;
      },
    );
  const [fast, git] = await Promise.all([settle(c.fast), settle(c.git)]);
  assert.deepEqual(fast, git, `branch ${branch ?? '(default)'}`);
  return fast;
}

async function repoWithHistory(dir: string): Promise<TestRepo> {
  const repo = await TestRepo.create(dir, 'trunk');
  repo.git('branch', 'feature');
  repo.git('branch', 'feature-two');
  repo.git('tag', 'light');
  repo.git('tag', '-a', '-m', 'annotated', 'v1.0.0');
  await repo.commit();
  return repo;
}

describe('local refs read without git', () => {
  test('match git ls-remote, loose and packed, for HEAD, branches, tags and a missing branch', async (t) => {
    const root = await tempDir(t);
    const repo = await repoWithHistory(path.join(root, 'work'));
    const bare = path.join(root, 'bare.git');
    repo.git('clone', '--quiet', '--bare', repo.dir, bare);
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    await c.fast.ensureStore(store, call);
    const before = c.spawned();
    for (const url of [repo.url, repo.dir, `file://${bare}`, bare]) {
      const remote = { url };
      // A clone packs its refs; the work repo's are loose until pack-refs below.
      for (const patterns of [['HEAD'], ['refs/heads/feature'], ['refs/heads/'], ['refs/heads/nope'], ['HEAD', 'refs/heads/trunk']]) {
        await both(c, store, remote, patterns);
      }
      assert.deepEqual(await heads(c, store, remote, undefined), { sha: repo.head(), branch: 'trunk' });
      assert.deepEqual(await heads(c, store, remote, 'feature'), { sha: repo.head('feature'), branch: 'feature' });
      assert.match(JSON.stringify(await heads(c, store, remote, 'nope')), /branch-missing/);
    }
    // A packed annotated tag carries its peeled commit; the listing has it as git does.
    const tags = (await both(c, store, { url: bare }, ['refs/tags/'])) as { peeled: Record<string, string> };
    assert.equal(tags.peeled['refs/tags/v1.0.0'], repo.head('v1.0.0^{commit}'));
    assert.equal(c.spawned(), before, 'a local check started git');

    // After pack-refs, and with a branch both packed and loose (loose wins), still the same.
    repo.git('pack-refs', '--all');
    await repo.commit();
    await both(c, store, { url: repo.url }, ['HEAD']);
    await both(c, store, { url: repo.url }, ['refs/heads/']);
    assert.equal(c.spawned(), before);
  });

  test('an empty repository has no default branch, as git says', async (t) => {
    const root = await tempDir(t);
    const c = clients(t, testEnv(root));
    const empty = path.join(root, 'empty.git');
    (await TestRepo.create(path.join(root, 'seed'))).git('init', '--quiet', '--bare', empty);
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const before = c.spawned();
    await both(c, store, { url: empty }, ['HEAD']);
    assert.match(JSON.stringify(await heads(c, store, { url: empty }, undefined)), /branch-missing.*no default branch/);
    assert.match(JSON.stringify(await heads(c, store, { url: `file://${empty}` }, 'main')), /branch-missing/);
    assert.equal(c.spawned(), before);
  });

  test('a branch asked for under a name that is itself a branch (release/1.0 beside release) is missing, as git says', async (t) => {
    const root = await tempDir(t);
    const c = clients(t, testEnv(root));
    const repo = await TestRepo.create(path.join(root, 'work'), 'main');
    repo.git('branch', 'release');
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const before = c.spawned();
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await both(c, store, { url: repo.dir }, ['refs/heads/release/1.0']), { head: undefined, refs: {}, peeled: {} });
      assert.match(JSON.stringify(await heads(c, store, { url: repo.dir }, 'release/1.0')), /branch-missing/);
    }
    assert.equal(c.spawned(), before);
  });

  test('what git may read differently goes to git: an include, hidden refs, a loose tag, a missing folder', async (t) => {
    const root = await tempDir(t);
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const hidden = await repoWithHistory(path.join(root, 'hidden'));
    hidden.git('config', 'uploadpack.hideRefs', 'refs/heads/feature');
    const included = await repoWithHistory(path.join(root, 'included'));
    await writeFile(path.join(root, 'extra.config'), '[uploadpack]\n\thideRefs = refs/heads/feature-two\n');
    included.git('config', 'include.path', path.join(root, 'extra.config'));
    const looseTag = await repoWithHistory(path.join(root, 'loose-tag'));
    const cases: [string, RefPatterns][] = [
      [hidden.dir, ['refs/heads/']],
      [included.dir, ['refs/heads/']],
      [looseTag.dir, ['refs/tags/']],
      [path.join(root, 'missing'), ['HEAD']],
    ];
    for (const [url, patterns] of cases) {
      const before = c.spawned();
      const answer = await both(c, store, { url }, patterns);
      assert.ok(c.spawned() > before, `${url} was not asked by git`);
      if (url === hidden.dir) assert.equal((answer as { refs: Record<string, string> }).refs['refs/heads/feature'], undefined, 'a hidden ref was listed');
    }
  });
});

describe('local refs kept between checks', () => {
  test('an unchanged repository is answered from memory; each kind of change is seen at the next check', async (t) => {
    const root = await tempDir(t);
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const names = ['in-place', 'update-ref', 'packed-in-place', 'symref', 'include', 'deleted'] as const;
    const repos = new Map<string, TestRepo>();
    for (const name of names) repos.set(name, await repoWithHistory(path.join(root, name)));
    const repo = (name: (typeof names)[number]): TestRepo => repos.get(name) as TestRepo;
    repo('packed-in-place').git('pack-refs', '--all');
    // Loose tags would go to git (see above): branches and HEAD are what is read here.
    const all: RefPatterns = ['HEAD', 'refs/heads/'];
    // What changed in the last two seconds is not kept (its next change could carry the same timestamp).
    await delay(2_100);
    for (const r of repos.values()) await both(c, store, { url: r.dir }, all);
    const hits = localRefCache.hits;
    const before = c.spawned();
    for (const r of repos.values()) await both(c, store, { url: r.dir }, all);
    assert.equal(localRefCache.hits - hits, names.length, 'the second check of unchanged repositories read them again');
    assert.equal(c.spawned(), before);

    const trunk = repo('in-place').head('trunk');
    const oldFeature = repo('in-place').head('feature');
    assert.notEqual(trunk, oldFeature);
    // Written in place by another tool: same file, same size; only its times tell.
    await writeFile(path.join(repo('in-place').dir, '.git/refs/heads/feature'), `${trunk}\n`);
    repo('update-ref').git('update-ref', 'refs/heads/feature', repo('update-ref').head('trunk'));
    const packedFile = path.join(repo('packed-in-place').dir, '.git/packed-refs');
    const packedTrunk = repo('packed-in-place').head('trunk');
    const packedFeature = repo('packed-in-place').head('feature');
    await writeFile(packedFile, (await readFile(packedFile, 'utf8')).replace(`${packedFeature} refs/heads/feature\n`, `${packedTrunk} refs/heads/feature\n`));
    repo('symref').git('symbolic-ref', 'HEAD', 'refs/heads/feature');
    await writeFile(path.join(root, 'extra.config'), '[uploadpack]\n\thideRefs = refs/heads/feature-two\n');
    repo('include').git('config', 'include.path', path.join(root, 'extra.config'));
    repo('deleted').git('branch', '-D', 'feature-two');

    const refs = async (name: (typeof names)[number]): Promise<{ head: string; refs: Record<string, string> }> =>
      (await both(c, store, { url: repo(name).dir }, all)) as { head: string; refs: Record<string, string> };
    assert.equal((await refs('in-place')).refs['refs/heads/feature'], trunk);
    assert.equal((await refs('update-ref')).refs['refs/heads/feature'], repo('update-ref').head('trunk'));
    assert.equal((await refs('packed-in-place')).refs['refs/heads/feature'], packedTrunk);
    assert.equal((await refs('symref')).head, 'refs/heads/feature');
    assert.equal((await refs('deleted')).refs['refs/heads/feature-two'], undefined);
    const spawned = c.spawned();
    assert.equal((await refs('include')).refs['refs/heads/feature-two'], undefined, 'a hidden ref was listed');
    assert.ok(c.spawned() > spawned, 'a config with an include was not left to git');
  });
});

/** A TCP pass-through in front of `port`, counting connections: what an HTTP proxy does with plain http. */
async function passThrough(t: TestContext, port: number): Promise<{ port: number; connections: () => number; open: () => number }> {
  let connections = 0;
  let open = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    connections++;
    open++;
    client.once('close', () => open--);
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections, open: () => open };
}

describe('smart HTTP refs asked without git', () => {
  test('match git ls-remote on git http-backend, over one kept-alive connection', async (t) => {
    const root = await tempDir(t);
    const served = path.join(root, 'served');
    const repo = await repoWithHistory(path.join(served, 'site'));
    (await TestRepo.create(path.join(root, 'seed'))).git('init', '--quiet', '--bare', path.join(served, 'empty'));
    const http = await startHttpGit(t, { root: served, user: 'deploy', password: 'right' });
    // Between gitwatch and the server, to count connections.
    const front = await passThrough(t, Number(new URL(http.url('x')).port));
    const at = (name: string): string => http.url(name).replace(/:\d+\//, `:${front.port}/`);
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const remote = { url: at('site'), credentials: { username: 'deploy', password: 'right' } };
    const before = c.spawned();
    const connectionsBefore = front.connections();
    for (const patterns of [['HEAD'], ['refs/heads/feature'], ['refs/heads/'], ['refs/tags/'], ['refs/heads/nope']]) await both(c, store, remote, patterns);
    assert.deepEqual(await heads(c, store, remote, undefined), { sha: repo.head(), branch: 'trunk' });
    assert.deepEqual(await heads(c, store, remote, 'feature'), { sha: repo.head('feature'), branch: 'feature' });
    assert.match(JSON.stringify(await heads(c, store, remote, 'nope')), /branch-missing/);
    const empty = { url: at('empty'), credentials: remote.credentials };
    assert.match(JSON.stringify(await heads(c, store, empty, undefined)), /branch-missing.*no default branch/);
    assert.match(JSON.stringify(await heads(c, store, { url: at('absent'), credentials: remote.credentials }, undefined)), /not-found/);
    assert.match(JSON.stringify(await heads(c, store, { url: at('site'), credentials: { username: 'deploy', password: 'wrong' } }, undefined)), /"auth"/);
    assert.match(JSON.stringify(await heads(c, store, { url: at('site') }, undefined)), /"auth"/);
    assert.equal(c.spawned(), before, 'an HTTP check started git');
    assert.deepEqual(c.fallbacks, []);
    // git opens a connection per check at least. In-process, once one is open (the server closes an idle
    // one after 5 s), ten checks, twenty requests, go over it.
    const total = front.connections() - connectionsBefore;
    assert.ok(total > 10, `git made ${total} connections`);
    await c.fast.lsRemote(store, remote, undefined, call);
    const start = front.connections();
    for (let i = 0; i < 10; i++) await c.fast.lsRemote(store, remote, 'feature', call);
    assert.equal(front.connections() - start, 0, 'ten in-process checks opened new connections');
  });

  test('one v0 request a check; a remote with a large advertisement is asked with v2 and a ref prefix', async (t) => {
    const root = await tempDir(t);
    const served = path.join(root, 'served');
    await repoWithHistory(path.join(served, 'small'));
    const big = await repoWithHistory(path.join(served, 'big'));
    // 2,000 tags: an advertisement of about 130 KiB.
    big.git('pack-refs', '--all');
    const sha = big.head();
    const tags = Array.from({ length: 2000 }, (_, i) => `${sha} refs/tags/bulk-${String(i).padStart(5, '0')}\n`).join('');
    await writeFile(path.join(big.dir, '.git', 'packed-refs'), (await readFile(path.join(big.dir, '.git', 'packed-refs'), 'utf8')) + tags);
    big.git('pack-refs', '--all');
    const http = await startHttpGit(t, { root: served, user: 'u', password: 'p' });
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const credentials = { username: 'u', password: 'p' };
    const requests = async (remote: Remote, branch: string | undefined): Promise<number> => {
      const before = http.requests();
      await c.fast.lsRemote(store, remote, branch, call);
      return http.requests() - before;
    };
    const smallRemote = { url: http.url('small'), credentials };
    const bigRemote = { url: http.url('big'), credentials };
    assert.deepEqual([await requests(smallRemote, undefined), await requests(smallRemote, 'feature')], [1, 1]);
    assert.deepEqual([await requests(bigRemote, undefined), await requests(bigRemote, 'feature'), await requests(bigRemote, undefined)], [1, 2, 2]);
    for (const patterns of [['HEAD'], ['refs/heads/feature'], ['refs/tags/'], ['refs/tags/bulk-0199'], ['HEAD', 'refs/heads/']])
      await both(c, store, bigRemote, patterns);
    assert.equal(c.spawned(), 0);
  });

  test('a redirect to another host gets no credentials, and a server that stalls times out', async (t) => {
    const root = await tempDir(t);
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const offered: string[] = [];
    const stalled: IncomingMessage[] = [];
    const server = createHttpServer((req, res) => {
      if (req.url?.startsWith('/stall/')) return void stalled.push(req);
      if (req.headers.authorization !== undefined) offered.push(req.headers.authorization);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const thief = (server.address() as AddressInfo).port;
    // Another host: localhost is not 127.0.0.1 to git's credential rule, nor to gitwatch's.
    const redirector = createHttpServer((req, res) => res.writeHead(302, { Location: `http://localhost:${thief}${req.url ?? '/'}` }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => redirector.close(() => resolve())));
    const from = (redirector.address() as AddressInfo).port;
    const credentials = { username: 'deploy', password: 'secret-token' };
    assert.match(JSON.stringify(await heads(c, store, { url: `http://127.0.0.1:${from}/site.git`, credentials }, undefined)), /"auth"/);
    assert.deepEqual(offered, [], 'the other host was handed the credentials');

    const short = { timeoutMs: 1500 };
    const stall = { url: `http://127.0.0.1:${thief}/stall/site.git`, credentials };
    for (const client of [c.fast, c.git]) {
      const started = Date.now();
      await assert.rejects(client.lsRemote(store, stall, undefined, short), (e: unknown) => e instanceof GitError && e.kind === 'timeout');
      assert.ok(Date.now() - started < 10_000);
    }
    assert.equal(stalled.length, 2, 'both asked the stalling server');
  });

  test('with a proxy set, git asks (through the proxy), and the fallback is said once', async (t) => {
    const root = await tempDir(t);
    const served = path.join(root, 'served');
    const repo = await TestRepo.create(path.join(served, 'site'));
    const http = await startHttpGit(t, { root: served, user: 'u', password: 'p' });
    const proxy = await passThrough(t, Number(new URL(http.url('x')).port));
    const c = clients(t, testEnv(root, { http_proxy: `http://127.0.0.1:${proxy.port}` }));
    const store = path.join(root, 'store');
    await c.fast.ensureStore(store, call);
    const remote = { url: http.url('site'), credentials: { username: 'u', password: 'p' } };
    const before = c.spawned();
    for (let i = 0; i < 3; i++) assert.deepEqual(await c.fast.lsRemote(store, remote, undefined, call), { sha: repo.head(), branch: 'main' });
    assert.equal(c.spawned() - before, 3, 'each check ran git');
    assert.ok(proxy.connections() >= 3, 'git did not go through the proxy');
    assert.equal(c.fallbacks.length, 1);
    assert.match(c.fallbacks[0] ?? '', /127\.0\.0\.1:\d+: a proxy is set \(http_proxy\)/);
  });
});

describe('https with a private certificate authority', () => {
  test('GIT_SSL_CAINFO is trusted in-process; a certificate Node refuses goes to git, which says why', async (t) => {
    const { caCert, tls } = await privateCa();
    const root = await tempDir(t);
    const repo = await TestRepo.create(path.join(root, 'served', 'site'));
    const caFile = path.join(root, 'ca.pem');
    await writeFile(caFile, caCert);
    const https = await startHttpGit(t, { root: path.join(root, 'served'), user: 'u', password: 'p', tls });
    const remote = { url: https.url('site'), credentials: { username: 'u', password: 'p' } };

    const trusted = clients(t, testEnv(root, { GIT_SSL_CAINFO: caFile }));
    const store = path.join(root, 'store');
    await trusted.git.ensureStore(store, call);
    assert.deepEqual(await heads(trusted, store, remote, undefined), { sha: repo.head(), branch: 'main' });
    assert.equal(trusted.spawned(), 0, trusted.fallbacks.join('; '));
    assert.deepEqual(trusted.fallbacks, []);

    const env = testEnv(root);
    delete env['SSL_CERT_FILE'];
    delete env['SSL_CERT_DIR'];
    const untrusted = clients(t, env);
    assert.match(JSON.stringify(await heads(untrusted, store, remote, undefined)), /"tls"/);
    assert.equal(untrusted.spawned(), 1, 'git did not get the last word');
    assert.match(untrusted.fallbacks.join('\n'), /Node refused the server's certificate/);

    // OpenSSL's variables mean something to some builds of git and nothing to Node: git answers.
    const openssl = clients(t, { ...env, SSL_CERT_FILE: caFile });
    await heads(openssl, store, remote, undefined);
    assert.equal(openssl.spawned(), 1);
    assert.match(openssl.fallbacks.join('\n'), /SSL_CERT_FILE is set/);
  });
});

describe('SSH checks share one connection per host', () => {
  test('through an SSH master: the same answers as git alone, one connection, and nothing left after close', async (t) => {
    const missing = sshdMissing();
    if (missing !== undefined) return t.skip(missing);
    const root = await tempDir(t);
    const repo = await repoWithHistory(path.join(root, 'site'));
    const sshd = await startSshd(t, path.join(root, 'sshd'));
    // Connections are counted in front of sshd; the host key is known at the counting port.
    const front = await passThrough(t, sshd.port);
    const knownHosts = path.join(root, 'known_hosts');
    const key = (await readFile(sshd.knownHosts, 'utf8')).split(' ').slice(1).join(' ');
    await writeFile(knownHosts, `[127.0.0.1]:${front.port} ${key}`);
    const ssh = { key: sshd.clientKey, knownHosts };
    const remote = { url: `ssh://${userInfo().username}@127.0.0.1:${front.port}${repo.dir}`, ssh };
    const scpLike = { url: `${userInfo().username}@127.0.0.1:${repo.dir}`, ssh };
    // The master's control folder is made in this process's TMPDIR: one of the test's own, so another
    // test file's SSH master, made at the same time, is not counted as this one's.
    const tmp = await ownTmpdir(t);
    const c = clients(t, testEnv(root));
    const store = path.join(root, 'store');
    await c.git.ensureStore(store, call);
    const controlDirs = async (): Promise<string[]> => (await readdir(tmp)).filter((n) => n.startsWith('gitwatch-ssh-'));
    const dirsBefore = await controlDirs();

    const start = front.connections();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => c.fast.lsRemote(store, remote, i % 2 === 0 ? undefined : 'feature', call)));
    for (const [i, head] of answers.entries())
      assert.deepEqual(head, i % 2 === 0 ? { sha: repo.head(), branch: 'trunk' } : { sha: repo.head('feature'), branch: 'feature' });
    for (let i = 0; i < 5; i++) await c.fast.lsRemote(store, remote, 'trunk', call);
    assert.equal(front.connections() - start, 1, 'seventeen checks, one connection');
    await both(c, store, remote, ['refs/heads/']);
    await both(c, store, remote, ['refs/heads/nope']);
    // Another port is another master; a bad key would be refused by sshd, master or not.
    await both(c, store, { url: scpLike.url.replace('127.0.0.1:', `[127.0.0.1:${sshd.port}]:`), ssh: { key: sshd.clientKey, knownHosts: sshd.knownHosts } }, [
      'HEAD',
    ]);

    const [dir] = (await controlDirs()).filter((d) => !dirsBefore.includes(d));
    assert.ok(dir !== undefined, 'no control folder');
    assert.equal((await stat(path.join(tmp, dir))).mode & 0o077, 0, 'the control folder is not private');
    await c.fast.close();
    assert.deepEqual(
      (await controlDirs()).filter((d) => !dirsBefore.includes(d)),
      [],
      'the control folder outlived close',
    );
    // The master's connection is gone with it.
    const until = Date.now() + 5000;
    while (front.open() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(front.open(), 0, 'a connection outlived close');
  });
});
