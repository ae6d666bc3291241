import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderKind } from '../src/providers/kinds.js';
import { createDemoSandboxData, DEMO_CREDENTIALS, type SandboxData } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { demoConfigDocument, loginCalls } from './helpers/app.js';
import { subscribeSse } from './helpers/live.js';
import { type RunningCommand, startCommand } from './helpers/process.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const OLD_KEY = 'old-key-canary-d41c';
const NEW_KEY = 'new-key-canary-7b20';
const ROTATED = 'rotated-pik-secret-canary-e9f3';
const BROKEN = 'pasted-secret-canary-0c5a';

/** The process's JSON log lines so far whose message passes `wanted`. */
function logLines(command: RunningCommand, wanted: (msg: string) => boolean) {
  return command
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => wanted(String(line.msg)));
}

/** Resolves with the `count`th log line whose message passes `wanted`, once it is out. */
function waitForLogLine(
  command: RunningCommand,
  wanted: (msg: string) => boolean,
  count: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = logLines(command, wanted)[count - 1];
      if (line === undefined) return;
      cleanup();
      resolve(line);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`exited with ${code} before log line ${count}:\n${command.stdout()}`));
    };
    const cleanup = () => {
      command.child.stdout?.off('data', check);
      command.child.off('exit', onExit);
    };
    // Registered after the helper's own listener, which adds the chunk to stdout().
    command.child.stdout?.on('data', check);
    command.child.once('exit', onExit);
    check();
  });
}

describe('SIGHUP to a running balance-api serve', () => {
  let sandbox: Sandbox;
  let data: SandboxData;
  let server: RunningCommand;
  let dir: string;
  let configPath: string;
  let origin: string;
  let key = OLD_KEY;
  const reloads = { ok: 0, refused: 0 };

  const providers = (ids: string[]) => {
    const all = demoConfigDocument((kind) => sandbox.baseUrl(kind as ProviderKind)).providers;
    return ids.map((id) => {
      const provider = all.find((candidate) => candidate.id === id) as Record<string, unknown>;
      // pik's secret comes from a file beside the configuration.
      return id === 'pik-main'
        ? {
            ...provider,
            credentials: { appId: DEMO_CREDENTIALS.pik.appId, appSecret: { file: 'pik-secret' } },
          }
        : provider;
    });
  };
  const write = (document: Record<string, unknown>) =>
    writeFileSync(
      configPath,
      JSON.stringify({
        auth: { apiKeys: [{ tenant: 'default', sha256: sha256(key) }] },
        ...document,
      }),
    );
  const ask = async (query: string, authorization = `Bearer ${key}`) => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: Record<string, unknown> | null;
        errors?: unknown[];
      },
    };
  };
  const providerIds = async () => {
    const { body } = await ask('{ providers { id accounts { id } } }');
    expect(body.errors).toBeUndefined();
    return ((body.data?.providers ?? []) as { id: string }[]).map((provider) => provider.id);
  };
  /** Sends SIGHUP and resolves with the log line of its outcome. */
  const hangUp = async (outcome: keyof typeof reloads) => {
    reloads[outcome] += 1;
    server.child.kill('SIGHUP');
    const wanted =
      outcome === 'ok'
        ? (msg: string) => msg === 'configuration reloaded'
        : (msg: string) => msg.startsWith('configuration reload refused');
    return waitForLogLine(server, wanted, reloads[outcome]);
  };

  beforeAll(async () => {
    data = createDemoSandboxData();
    sandbox = await startSandbox({ data });
    dir = mkdtempSync(join(tmpdir(), 'balance-sighup-'));
    configPath = join(dir, 'balance-api.json');
    writeFileSync(join(dir, 'pik-secret'), `${DEMO_CREDENTIALS.pik.appSecret}\n`);
    write({ server: { requestTimeoutMs: 9000 }, providers: providers(['pik-main', 'ops', 'sms']) });
    server = startCommand(['serve', '--config', configPath, '--port', '0']);
    const [, url] = await server.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
    origin = url as string;
  });

  afterAll(async () => {
    await server?.stop();
    await sandbox?.close();
  });

  it('adds a provider with no new login for the others, and logs a changed server key as needing a restart', async () => {
    expect(await providerIds()).toEqual(['pik-main', 'ops', 'sms']);
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    expect(loginCalls(sandbox, 'asset-accounts')).toHaveLength(1);

    write({
      server: { requestTimeoutMs: 8000 },
      providers: providers(['pik-main', 'ops', 'sms', 'treasury']),
    });
    const line = await hangUp('ok');
    expect(line).toMatchObject({ added: ['default/treasury'], changed: [], unchanged: 3 });
    await server.waitForOutput(/"keys":\["server\.requestTimeoutMs"\][^\n]*need a restart/);

    expect(await providerIds()).toEqual(['pik-main', 'ops', 'sms', 'treasury']);
    // The others kept their sessions.
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    expect(loginCalls(sandbox, 'asset-accounts')).toHaveLength(1);
  });

  it('swaps a credential: the changed provider logs in again with the new secret, the others do not', async () => {
    const customer = data.pik.customers[0];
    if (customer === undefined) throw new Error('demo data changed');
    // The provider rotated the secret and refuses the old one; the file gets the new one.
    customer.appSecret = ROTATED;
    writeFileSync(join(dir, 'pik-secret'), `${ROTATED}\n`);
    const line = await hangUp('ok');
    expect(line).toMatchObject({ added: [], changed: ['default/pik-main'], unchanged: 3 });
    expect(await providerIds()).toEqual(['pik-main', 'ops', 'sms', 'treasury']);
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    expect(loginCalls(sandbox, 'asset-accounts')).toHaveLength(1);
  });

  it('refuses a broken file, naming each problem and no secret, and keeps serving', async () => {
    writeFileSync(
      configPath,
      JSON.stringify({
        auth: { apiKeys: [{ tenant: 'default', sha256: sha256(key) }] },
        providers: [{ ...providers(['sms'])[0], kind: BROKEN }],
      }),
    );
    const line = await hangUp('refused');
    expect(line).toMatchObject({
      source: configPath,
      problems: [expect.stringMatching(/^providers\[0\] "sms": kind: expected one of pik, /)],
    });
    expect(await providerIds()).toEqual(['pik-main', 'ops', 'sms', 'treasury']);
  });

  it("removes a provider: its subscription ends with an error naming it, the others' continue", async () => {
    write({ server: { requestTimeoutMs: 8000 }, providers: providers(['pik-main', 'sms']) });
    await hangUp('ok');
    const headers = { authorization: `Bearer ${key}` };
    const events = (id: string) =>
      subscribeSse(
        `${origin}/graphql`,
        'subscription ($ids: [ID!]) { balanceEvents(providerIds: $ids) { kind providerId } }',
        { ids: [id] },
        headers,
      );
    const sms = await events('sms');
    expect((await sms.next()).data?.balanceEvents).toEqual({ kind: 'SNAPSHOT', providerId: 'sms' });
    const pik = await events('pik-main');
    expect((await pik.next()).data?.balanceEvents).toEqual({
      kind: 'SNAPSHOT',
      providerId: 'pik-main',
    });

    write({ server: { requestTimeoutMs: 8000 }, providers: providers(['pik-main']) });
    expect(await hangUp('ok')).toMatchObject({ removed: ['default/sms'], unchanged: 1 });
    expect(await sms.next()).toMatchObject({
      data: null,
      errors: [
        {
          message: expect.stringMatching(/^Provider "sms" was removed from the configuration/),
          extensions: { code: 'PROVIDER_REMOVED', providerId: 'sms' },
        },
      ],
    });
    await sms.ended;
    // pik-main's subscription is still open: the server ends it only when the client leaves.
    let pikEnded = false;
    void pik.ended.then(() => {
      pikEnded = true;
    });
    expect(await providerIds()).toEqual(['pik-main']);
    expect(pikEnded).toBe(false);
    pik.close();
    await pik.ended;
  });

  it('reloads API keys: the old key is refused, the new one accepted', async () => {
    expect((await ask('{ providers { id } }', `Bearer ${OLD_KEY}`)).status).toBe(200);
    key = NEW_KEY;
    write({ server: { requestTimeoutMs: 8000 }, providers: providers(['pik-main']) });
    expect(await hangUp('ok')).toMatchObject({ auth: 'reloaded', unchanged: 1 });
    expect((await ask('{ providers { id } }', `Bearer ${OLD_KEY}`)).status).toBe(401);
    expect((await ask('{ providers { id } }', `Bearer ${NEW_KEY}`)).status).toBe(200);
  });

  it('counts each reload by its outcome in balance_api_config_reloads_total', async () => {
    const text = await (await fetch(`${origin}/metrics`)).text();
    expect(text).toContain(`balance_api_config_reloads_total{outcome="ok"} ${reloads.ok}`);
    expect(text).toContain(
      `balance_api_config_reloads_total{outcome="refused"} ${reloads.refused}`,
    );
    expect(reloads).toEqual({ ok: 5, refused: 1 });
  });

  it('never logs a secret', () => {
    const output = server.stdout() + server.stderr();
    for (const secret of [ROTATED, BROKEN, OLD_KEY, NEW_KEY, DEMO_CREDENTIALS.pik.appSecret]) {
      expect(output).not.toContain(secret);
    }
  });
});

describe('SIGHUP to balance-api serve on the built-in sandbox', () => {
  it('logs that there is nothing to reload, and keeps serving', async () => {
    const server = startCommand(['serve', '--port', '0']);
    try {
      const [, origin] = await server.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
      server.child.kill('SIGHUP');
      await server.waitForOutput(/"msg":"nothing to reload: serving the built-in sandbox/);
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      expect(server.child.exitCode).toBeNull();
    } finally {
      await server.stop();
    }
  });
});
