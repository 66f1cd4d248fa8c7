/** Staff roles that hold API keys (D6), plus the parties that act without one. */
export const staffRoles = ['agent', 'supervisor', 'alert-source', 'auditor'] as const;
export type StaffRole = (typeof staffRoles)[number];
export type ActorRole = StaffRole | 'customer' | 'system';

export interface Actor {
  id: string;
  role: ActorRole;
}

export const systemActor: Actor = { id: 'pledge', role: 'system' };
