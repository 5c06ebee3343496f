import type { Role } from '../users/users.table.js';

/** The signed-in user as every access decision sees it. */
export interface Viewer {
  id: number;
  login: string;
  name: string;
  role: Role;
  departmentId: number | null;
  /** An assistant's manager. */
  managerId: number | null;
}
