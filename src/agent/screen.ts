// What a pane shows right now: its visible rows and where the cursor is, in
// one tmux call so the two belong together.
import { TerminalError } from '../errors.js';
import { tmux, windowTarget } from '../tmux/client.js';

export interface Screen {
  /** The visible rows, top to bottom, trailing spaces trimmed (as capture-pane prints them). */
  rows: string[];
  cursorX: number;
  cursorY: number;
  width: number;
  dead: boolean;
}

export async function captureScreen(socket: string, session: string): Promise<Screen> {
  const target = windowTarget(session);
  const res = await tmux(socket, [
    ['display-message', '-p', '-t', target, '#{cursor_x} #{cursor_y} #{pane_width} #{pane_dead}'],
    ['capture-pane', '-p', '-t', target],
  ]);
  if (res.exitCode !== 0)
    throw new TerminalError(
      `cannot capture ${socket}/${session}: ${res.stderr.trim() || `tmux exited ${res.exitCode}`}`,
    );
  return parseScreen(res.stdout);
}

/** Pure: the first line is the cursor line of the format above, the rest the pane's rows. */
export function parseScreen(stdout: string): Screen {
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const [x = '0', y = '0', w = '0', dead = '0'] = (lines.shift() ?? '').split(' ');
  return { rows: lines, cursorX: Number(x), cursorY: Number(y), width: Number(w), dead: dead === '1' };
}
