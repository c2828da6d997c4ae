import type { Account } from '../../bindings/Account';

// The station refuses anyone else too; asking first saves a technician a password round-trip.
export const mayReprovision = (account: Account | null): boolean => account?.role === 'technician';

export const WHY_TECHNICIAN = 'Re-provisioning needs the Technician role';
