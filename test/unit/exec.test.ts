// run() (src/exec.ts) starts real programs (sh, cat, true): exit status and output as they are, input fed, a
// program that cannot start throws, a timeout ends the child's whole process group.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/errors.js';
import { run } from '../../src/exec.js';

/** Running, not a zombie: a killed grandchild is reparented and waits to be reaped by whatever reaps here. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

describe('run', () => {
  it('returns the exit status and the output unchanged (final newline kept, UTF-8)', async () => {
    const r = await run(['sh', '-c', 'printf "a\\n\\303\\251\\n"; printf "warn\\n" >&2; exit 3']);
    expect(r).toEqual({ exitCode: 3, stdout: 'a\né\n', stderr: 'warn\n', timedOut: false });
  });

  it('feeds input on stdin, and ignores a program that exits without reading it', async () => {
    expect((await run(['cat'], { input: 'line 1\nline 2' })).stdout).toBe('line 1\nline 2');
    const r = await run(['true'], { input: 'x'.repeat(1 << 20) });
    expect(r.exitCode).toBe(0);
  });

  it('runs with no stdin when given no input', async () => {
    const r = await run(['sh', '-c', 'cat; echo "end $?"']);
    expect(r.stdout).toBe('end 0\n');
  });

  it('adds env to the inherited environment and runs in cwd', async () => {
    const r = await run(['sh', '-c', 'echo "$GITFLEET_EXEC_TEST $(pwd)"; test -n "$PATH" && echo path'], {
      env: { GITFLEET_EXEC_TEST: 'yes' },
      cwd: '/',
    });
    expect(r.stdout).toBe('yes /\npath\n');
  });

  it('says 1 for a child ended by a signal', async () => {
    const r = await run(['sh', '-c', 'echo hi; kill -9 $$']);
    expect(r).toEqual({ exitCode: 1, stdout: 'hi\n', stderr: '', timedOut: false });
  });

  it('throws a TerminalError with the errno code when the program cannot start', async () => {
    const err = await run(['gitfleet-no-such-program', 'x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect(err).toMatchObject({ code: 'ENOENT' });
    expect((err as Error).message).toMatch(/^cannot run gitfleet-no-such-program: .*ENOENT/);
  });

  it('at the timeout ends the child and the process group it started (124, timedOut)', async () => {
    const started = Date.now();
    // The shell ignores SIGTERM (set first, so a slow start under load cannot lose it); its background sleep
    // holds the output open and outlives the shell unless the group is killed. 3 s: time for the shell to start.
    const r = await run(['sh', '-c', 'trap "" TERM; sleep 60 & echo $!; sleep 60'], { timeoutMs: 3000 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(124);
    // SIGTERM was ignored: the group got SIGKILL 2 s later, long before the sleeps end (60 s).
    expect(Date.now() - started).toBeLessThan(20_000);
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(1);
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((res) => setTimeout(res, 20));
    expect(alive(grandchild)).toBe(false);
  });
});
