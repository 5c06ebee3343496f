import argon2 from 'argon2';

// argon2id with the library defaults (64 MiB, t=3): ~50 ms per check, which is the point.
export const hashPassword = (password: string): Promise<string> => argon2.hash(password, { type: argon2.argon2id });

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed stored hash must read as "wrong password", not a 500
  }
}

// Verified when the login does not exist, so both paths cost the same and timing does not tell
// an attacker which logins exist.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('switchboard-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}
