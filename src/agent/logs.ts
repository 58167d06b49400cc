// `gitfleet agent logs`: the last lines an agent's pane printed, from the
// log tmux pipe-pane appends to (src/paths.ts agentLogPath). The log keeps
// what a full-screen program cleared off the screen; it holds raw terminal
// output, so escape sequences are removed for reading. A log over its cap
// was moved to `<log>.1` (apply/log-rotate.ts); its last lines come first.
import { open, type FileHandle } from 'node:fs/promises';
import { rotatedLogPath } from '../paths.js';

export interface LogTail {
  path: string;
  exists: boolean;
  lines: string[];
}

const CHUNK = 64 * 1024;
/** Never read more than this from the end, however few newlines it holds. */
const MAX_READ = 16 * 1024 * 1024;

export async function readLogTail(path: string, lines: number): Promise<LogTail> {
  const cur = await tailText(path, lines);
  let text = cur.text;
  let exists = cur.exists;
  // The log was rotated (apply/log-rotate.ts): the lines before it are at the end of <log>.1.
  if (cur.whole && lineCount(text) < lines) {
    const prev = await tailText(rotatedLogPath(path), lines - lineCount(text) + 1);
    exists ||= prev.exists;
    // A line cut by the rotation ends <log>.1 without its newline and goes on in <log>: join them as written.
    text = prev.text + text;
  }
  return { path, exists, lines: terminalLines(text).slice(-lines) };
}

/** The end of a file holding at least `lines` whole lines (or all of it, `whole`), as text. */
async function tailText(path: string, lines: number): Promise<{ exists: boolean; text: string; whole: boolean }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, text: '', whole: true };
    throw e;
  }
  try {
    const { size } = await fh.stat();
    let start = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    // Read backwards until we hold more newlines than lines wanted (the first line may be partial).
    while (start > 0 && size - start < MAX_READ && newlines <= lines) {
      const len = Math.min(CHUNK, start);
      start -= len;
      const chunk = Buffer.alloc(len);
      await fh.read(chunk, 0, len, start);
      chunks.unshift(chunk);
      newlines += count(chunk, 0x0a);
    }
    let text = Buffer.concat(chunks).toString('utf8');
    // Not from the start of the file: drop the partial first line (it may cut a character or an escape sequence).
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return { exists: true, text, whole: start === 0 };
  } finally {
    await fh.close();
  }
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return count(Buffer.from(text), 0x0a) + (text.endsWith('\n') ? 0 : 1);
}

/**
 * Pure: raw terminal output as plain lines, escape sequences and control characters removed, a final empty line
 * dropped.
 */
export function terminalLines(raw: string): string[] {
  const text = raw
    .replace(/\x1b\][\s\S]*?(?:\x07|\x1b\\)/g, '') // OSC (titles, hyperlinks)
    .replace(/\x1b[P^_X][\s\S]*?\x1b\\/g, '') // DCS, PM, APC, SOS
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '') // CSI (colours, cursor movement, modes)
    .replace(/\x1b[ -/]*[0-~]/g, ''); // the other escape sequences
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // A carriage return rewrites the line from its start: keep what was written last.
  return lines.map((l) =>
    l
      .replace(/\r+$/, '')
      .split('\r')
      .pop()!
      .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ''),
  );
}

function count(buf: Buffer, byte: number): number {
  let n = 0;
  for (const b of buf) if (b === byte) n++;
  return n;
}
