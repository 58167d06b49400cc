// Where the systemd user manager reads unit files. Shared by the installer
// (gitfleet's own units) and the observer (the fleet's units), so neither
// layer imports the other. Pure.
import path from 'node:path';

/** `$XDG_CONFIG_HOME/systemd/user`, default `~/.config/systemd/user`. */
export function userUnitDir(env: NodeJS.ProcessEnv, home: string): string {
  const config =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(config, 'systemd', 'user');
}
