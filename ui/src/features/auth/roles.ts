import type { Role } from '../../bindings/Role';

const LABELS: Record<Role, string> = { technician: 'Technician', administrator: 'Administrator' };

export const roleLabel = (role: Role): string => LABELS[role];
