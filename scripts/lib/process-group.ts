import { readdirSync, readFileSync } from 'node:fs';

export interface GroupMember {
  pid: number;
  command: string;
}

/**
 * The processes still in a process group. A child that loses its parent keeps its group, so this
 * also finds servers orphaned by a crashed or killed test worker.
 */
export function processGroupMembers(groupId: number): GroupMember[] {
  const members: GroupMember[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp …
      const [, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) !== groupId) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      members.push({ pid: Number(entry), command: command.slice(0, 160) });
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

export function killProcessGroup(groupId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupId, signal);
  } catch {
    // Nothing left in the group.
  }
}
