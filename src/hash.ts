// Content hashes shared by the planner (which names the content an
// install_unit will write) and apply (which checks it before writing).
// Neutral ground, so apply/ needs nothing from the planner's modules.
import { createHash } from 'node:crypto';

/** Hex sha256 of a UTF-8 string. */
export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
