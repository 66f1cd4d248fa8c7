/** C2: P1 is the most urgent. */
export const priorities = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof priorities)[number];

/** C9: a breach raises the priority one step, P1 stays P1. */
export function raisePriority(priority: Priority): Priority {
  const index = priorities.indexOf(priority);
  return priorities[Math.max(0, index - 1)] ?? 'P1';
}
