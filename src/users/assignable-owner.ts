import { eq } from 'drizzle-orm';
import { ownerDenial } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { AppError } from '../errors.js';
import type { Tx } from '../history/with-actor.js';
import { users } from './users.table.js';

/** A client or a deal may be given to this user by this viewer (access.ts `ownerDenial`), or
 *  the request fails with the reason: one check for every place that sets an owner. */
export async function assertAssignableOwner(tx: Tx, viewer: Viewer, ownerId: number): Promise<void> {
  const [owner] = await tx
    .select({ id: users.id, role: users.role, departmentId: users.departmentId, active: users.active })
    .from(users)
    .where(eq(users.id, ownerId));
  if (!owner) throw new AppError('VALIDATION', `ownerId: user ${ownerId} does not exist`);
  const denial = ownerDenial(viewer, owner);
  if (denial) throw new AppError(denial.code, denial.message);
}
