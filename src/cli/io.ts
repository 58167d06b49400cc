// What a command writes to and reads its environment from: the process's
// streams in src/cli.ts, captured ones in tests. A leaf, so commands never
// import main.ts for it.

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** Which streams are terminals (colour.ts colours only those); absent: neither, as in tests and pipes. */
  tty?: { stdout: boolean; stderr: boolean };
}
