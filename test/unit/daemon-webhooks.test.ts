// Webhook verification per forge, pure. Signatures are made here the way each forge documents them.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pushedBranch, safeEqual, verifyWebhook } from '../../src/daemon/webhooks.js';

const secret = 's3cret-hook';
const body = Buffer.from('{"ref":"refs/heads/main"}');
const hex = (s: string, b: Buffer) => createHmac('sha256', s).update(b).digest('hex');

describe('verifyWebhook', () => {
  it('GitHub: X-Hub-Signature-256 sha256=<hmac>; a ping is verified but not a push', () => {
    const h = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hex(secret, body)}` };
    expect(verifyWebhook(h, body, secret)).toEqual({ ok: true, forge: 'github', event: 'push', push: true });
    expect(verifyWebhook({ ...h, 'x-github-event': 'ping' }, body, secret)).toMatchObject({ ok: true, push: false });
    const wrong = { ...h, 'x-hub-signature-256': `sha256=${hex('other', body)}` };
    expect(verifyWebhook(wrong, body, secret)).toEqual({
      ok: false,
      forge: 'github',
      reason: 'signature does not match',
    });
    // The body signed is the body received: one byte more and it fails.
    expect(verifyWebhook(h, Buffer.concat([body, Buffer.from(' ')]), secret).ok).toBe(false);
    // A bare hex without the sha256= prefix is not GitHub's format.
    expect(verifyWebhook({ ...h, 'x-hub-signature-256': hex(secret, body) }, body, secret).ok).toBe(false);
  });

  it('Gitea and Forgejo: hex HMAC in X-Gitea-Signature / X-Forgejo-Signature', () => {
    const gitea = { 'x-gitea-event': 'push', 'x-gitea-signature': hex(secret, body) };
    expect(verifyWebhook(gitea, body, secret)).toEqual({ ok: true, forge: 'gitea', event: 'push', push: true });
    const forgejo = { 'x-forgejo-event': 'push', 'x-forgejo-signature': hex(secret, body).toUpperCase() };
    expect(verifyWebhook(forgejo, body, secret)).toEqual({ ok: true, forge: 'forgejo', event: 'push', push: true });
    expect(verifyWebhook({ ...gitea, 'x-gitea-signature': hex('x', body) }, body, secret).ok).toBe(false);
    expect(verifyWebhook({ 'x-forgejo-event': 'push' }, body, secret)).toEqual({
      ok: false,
      forge: 'forgejo',
      reason: 'signature header missing',
    });
  });

  it('GitLab: X-Gitlab-Token equals the secret', () => {
    const h = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret };
    expect(verifyWebhook(h, body, secret)).toEqual({ ok: true, forge: 'gitlab', event: 'Push Hook', push: true });
    expect(verifyWebhook({ ...h, 'x-gitlab-token': `${secret}x` }, body, secret).ok).toBe(false);
    expect(verifyWebhook({ ...h, 'x-gitlab-token': secret.slice(0, -1) }, body, secret).ok).toBe(false);
  });

  it('refuses an unknown sender, and everything when no secret is configured', () => {
    expect(verifyWebhook({ 'content-type': 'application/json' }, body, secret)).toMatchObject({
      ok: false,
      forge: null,
    });
    const h = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret };
    expect(verifyWebhook(h, body, null)).toMatchObject({ ok: false, reason: 'no --webhook-secret-file given' });
    // A header given twice is ambiguous: refused.
    expect(verifyWebhook({ ...h, 'x-gitlab-token': [secret, secret] }, body, secret).ok).toBe(false);
  });

  it('safeEqual: equal strings only, whatever their lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});

describe('pushedBranch', () => {
  it('the branch a push payload names, else null', () => {
    expect(pushedBranch(body)).toBe('main');
    expect(pushedBranch(Buffer.from('{"ref":"refs/heads/team/fleet"}'))).toBe('team/fleet');
    expect(pushedBranch(Buffer.from('{"ref":"refs/tags/v1"}'))).toBeNull();
    expect(pushedBranch(Buffer.from('{"ref":7}'))).toBeNull();
    expect(pushedBranch(Buffer.from('{}'))).toBeNull();
    expect(pushedBranch(Buffer.from('not json'))).toBeNull();
  });
});
