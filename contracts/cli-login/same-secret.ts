// Two secrets compared in constant time: over their SHA-256 digests, so neither the contents
// nor the lengths show in the timing.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));
