import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Everything an instance puts in Redis (values and pub/sub messages) is sealed with AES-256-GCM
 * under a key derived from `cluster.tokenKey`: a fresh 12-byte nonce per value, and what the value
 * is for, the tenant and the provider as associated data, so a value is opened only where it was
 * sealed (one tenant's entry copied under another's key does not open). Key names carry keyed
 * digests (HMAC), never a secret or a plain hash of one: credentials may be guessable.
 */

/** What a sealed value belongs to; all of it is checked when the value is opened. */
export interface SealContext {
  /** What the value is: "session", "read", "event"... */
  purpose: string;
  tenantId: string;
  providerId: string;
  /** More of where the value sits (a read's currency set); default none. */
  detail?: string | undefined;
}

export interface ValueCodec {
  /** `plain` encrypted and authenticated for `context`: "v1." and base64url of nonce, text, tag. */
  seal(plain: string, context: SealContext): string;
  /** The text sealed for this very context, or undefined (tampered, another context or key). */
  open(sealed: string, context: SealContext): string | undefined;
  /**
   * A keyed digest (HMAC-SHA256, 32 hex digits) of `parts`: the same on every instance with the
   * same `tokenKey`, and of no use to whoever reads Redis without it.
   */
  digest(...parts: readonly unknown[]): string;
}

const VERSION = 'v1.';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** `tokenKey` (32 bytes) as the codec of one cluster. */
export function createValueCodec(tokenKey: Buffer): ValueCodec {
  if (tokenKey.length !== 32) {
    throw new Error(`cluster.tokenKey: expected 32 bytes, received ${tokenKey.length}`);
  }
  // One key per use, so a digest never reveals anything about the encryption key.
  const encryptionKey = derive(tokenKey, 'balance-api cluster values v1');
  const digestKey = derive(tokenKey, 'balance-api cluster digests v1');

  return {
    seal(plain, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, nonce);
      cipher.setAAD(associatedData(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return VERSION + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, context) {
      if (!sealed.startsWith(VERSION)) return undefined;
      const bytes = Buffer.from(sealed.slice(VERSION.length), 'base64url');
      if (bytes.length < NONCE_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv(
          'aes-256-gcm',
          encryptionKey,
          bytes.subarray(0, NONCE_BYTES),
        );
        decipher.setAAD(associatedData(context));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch {
        // The tag does not match: altered, sealed for another context, or with another key.
        return undefined;
      }
    },
    digest(...parts) {
      return createHmac('sha256', digestKey)
        .update(JSON.stringify(parts))
        .digest('hex')
        .slice(0, 32);
    },
  };
}

function derive(tokenKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', tokenKey, Buffer.alloc(0), info, 32));
}

/** The context as unambiguous bytes: a JSON array, so no two contexts give the same text. */
function associatedData(context: SealContext): Buffer {
  return Buffer.from(
    JSON.stringify([context.purpose, context.tenantId, context.providerId, context.detail ?? '']),
    'utf8',
  );
}
