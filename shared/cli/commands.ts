/**
 * Every `trellis` command, by the words that name it. A new day-two command (`trellis dlq replay`,
 * `trellis compose`) is one file and one line here.
 */
import type { Command } from './command';
import { newSubgraph } from './newSubgraph';

export const COMMANDS: readonly Command[] = [newSubgraph];
