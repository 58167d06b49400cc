// `gitfleet run`: options checked, then the daemon (src/daemon/run.ts) until SIGTERM or SIGINT.
import { parseListen, readWebhookSecret } from '../daemon/http.js';
import { LOG_FORMATS, type LogFormat } from '../daemon/log.js';
import { Daemon } from '../daemon/run.js';
import { UsageError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import type { GlobalOptions } from './options.js';

export async function run(opts: GlobalOptions, _p: string[], io: Io): Promise<number> {
  const format = (opts.logFormat ?? 'human') as LogFormat;
  if (!LOG_FORMATS.includes(format))
    throw new UsageError(`--log-format ${JSON.stringify(opts.logFormat)}: allowed: ${LOG_FORMATS.join(', ')}`);
  const listen = opts.listen === null ? null : parseListen(opts.listen);
  if (opts.webhookSecretFile !== null && listen === null)
    throw new UsageError('--webhook-secret-file needs --listen: webhooks arrive on the listener');
  const webhookSecret = opts.webhookSecretFile === null ? null : await readWebhookSecret(opts.webhookSecretFile);
  await new Daemon({ opts, io, listen, logFormat: format, webhookSecret }).run();
  return EXIT.ok;
}
